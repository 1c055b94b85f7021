"""Listening to a channel-layer group from a synchronous test, as a socket in that group would.

The Redis pub/sub layer keeps one subscription per event loop, and every `async_to_sync` call runs its own
loop, so a listener that joined a group in one call would be gone in the next. A GroupListener runs one
event loop in a thread for its whole life: it joins the group there and collects what arrives.
"""

from __future__ import annotations

import asyncio
import queue
import threading

from channels.layers import DEFAULT_CHANNEL_LAYER, InMemoryChannelLayer, channel_layers, get_channel_layer


class GroupListener:
    def __init__(self, group: str):
        self.group = group
        self._frames: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._listen()), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"could not join {group}")
        if self._error:
            raise self._error

    async def _listen(self) -> None:
        shared = get_channel_layer()
        # The in-memory layer only reaches its own instance; a Redis layer gets one of its own for this loop.
        in_memory = isinstance(shared, InMemoryChannelLayer)
        layer = shared if in_memory else channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        try:
            channel = await layer.new_channel("test.")
            await layer.group_add(self.group, channel)
        except BaseException as exc:  # noqa: BLE001 — handed to the test thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        # One receive stays pending until a frame arrives: cancelling it to look at the stop flag (wait_for with a
        # timeout) dropped a frame that Redis handed over at that instant.
        receiving: asyncio.Future | None = None
        try:
            while not self._stop.is_set():
                if receiving is None:
                    receiving = asyncio.ensure_future(layer.receive(channel))
                done, _ = await asyncio.wait({receiving}, timeout=0.05)
                if done:
                    message, receiving = receiving.result(), None
                    self._frames.put(message["frame"])
        finally:
            if receiving is not None:
                receiving.cancel()
            await layer.group_discard(self.group, channel)
            if layer is not shared:
                await (layer.close_pools() if hasattr(layer, "close_pools") else layer.flush())

    def frames(self, settle: float = 0.4) -> list[dict]:
        """Everything received so far, waiting until nothing more arrives for `settle` seconds."""
        received = []
        while True:
            try:
                received.append(self._frames.get(timeout=settle))
            except queue.Empty:
                return received

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
