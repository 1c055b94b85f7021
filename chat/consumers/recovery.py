"""Open sockets catch up from the database when the channel layer (Redis) comes back after an outage.

Frames pushed while Redis was down are lost, and a Redis that restarted empty has forgotten the groups, yet the
sockets stay open. One watcher per server process sends a probe through the layer to itself (publish, then
receive on its own channel: the path every frame takes) every LAYER_PROBE_SECONDS. When a probe fails, or a push
of this process failed (`realtime.push_failed`), the next probe that gets through tells every open socket of the
process to re-join its groups and then replay what it missed from the database (each consumer's `catch_up`).

Where a replay starts is `Delivered`'s business: not at the highest id a socket delivered, which frames sent
after a lost one would have moved past it (the socket's own acks while the layer was down, or live frames once it
is back and before the watcher noticed), but where the socket stood at the last-but-one good probe.
"""

from __future__ import annotations

import asyncio
import logging

from channels.layers import InMemoryChannelLayer, get_channel_layer

from chat import realtime
from chat.consumers.protocol import SocketSet

logger = logging.getLogger(__name__)

LAYER_PROBE_SECONDS = 1.0
LAYER_PROBE_TIMEOUT_SECONDS = 2.0


class Delivered:
    """The ids (messages for a widget, inbox events for an inbox) one socket delivered, for its catch-up.

    Every good probe that needs no catch-up marks the position (`probe_ok`); a catch-up starts at the mark before
    last, a second or two back, so that a frame stored before it had long been pushed, and skips the ids the
    socket delivered after that mark (`missed`). A welcome sets the position: the client has everything up to it.
    """

    __slots__ = ("position", "marks", "since")

    def __init__(self):
        self.position: int | None = None
        self.marks: tuple[int | None, int | None] = (None, None)
        self.since: set[int] = set()

    def start_at(self, position: int | None) -> None:
        self.position, self.marks, self.since = position, (position, position), set()

    def add(self, ids) -> None:
        for id_ in ids:
            self.since.add(id_)
            if self.position is None or id_ > self.position:
                self.position = id_

    def probe_ok(self) -> None:
        self.marks = (self.marks[1], self.position)
        if self.marks[0] is not None and self.since:
            self.since = {id_ for id_ in self.since if id_ > self.marks[0]}

    @property
    def catch_up_from(self) -> int | None:
        return self.marks[0]

    def missed(self, id_: int) -> bool:
        return id_ not in self.since


def watch(consumer) -> None:
    """Registers an open socket; starts this process's watcher on first use (none for the in-memory layer, which
    cannot go down)."""
    layer = get_channel_layer()
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return
    _sockets.join(consumer, layer)


def unwatch(consumer) -> None:
    _sockets.discard(consumer)


async def _probe(layer, channel: str | None) -> str | None:
    """The probe's channel if a message went through the layer and back, else None."""
    try:
        channel = channel or await layer.new_channel("probe.")
        await layer.send(channel, {"type": "layer.probe"})
        await asyncio.wait_for(layer.receive(channel), LAYER_PROBE_TIMEOUT_SECONDS)
        return channel
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 — any failure of the layer is an outage here
        return None


async def _watch(watched: SocketSet, layer) -> None:
    channel, down = None, False
    while True:
        await asyncio.sleep(LAYER_PROBE_SECONDS)
        channel = await _probe(layer, channel)
        if channel is None:
            if not down:
                logger.warning("channel layer unreachable; open sockets will catch up when it is back")
            down = True
            continue
        if down or realtime.push_failed:
            realtime.push_failed = False
            down = False
            sockets = list(watched)
            logger.warning("channel layer is back: %s open sockets catch up from the database", len(sockets))
            for consumer in sockets:
                # Where it starts is read now, before the next good probe moves the marks.
                asyncio.ensure_future(_catch_up(consumer, consumer.delivered.catch_up_from))
        else:
            for consumer in watched:
                consumer.delivered.probe_ok()


_sockets = SocketSet(_watch)


async def _catch_up(consumer, start: int | None) -> None:
    try:
        await consumer.catch_up(start)
    except Exception:
        logger.exception("socket failed to catch up after the channel layer came back")
