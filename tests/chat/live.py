"""Real websocket clients (the `websockets` library) for tests and benchmarks against a running daphne."""

from __future__ import annotations

import asyncio
import collections
import itertools
import json

from websockets.asyncio.client import connect

ORIGIN = "http://site.test"
_ids = itertools.count(1)


class LiveClient:
    """One socket; frames are collected by type, messages kept by id (a frame seen twice is kept once)."""

    def __init__(self, url: str, **connect_kwargs):
        self.url = url
        self.connect_kwargs = connect_kwargs
        self.ws = None
        self.frames: list[dict] = []
        self.messages: dict[int, dict] = {}
        self.message_frames = 0
        self.deliveries: collections.Counter[int] = collections.Counter()  # message.new frames per message id
        self._reader: asyncio.Task | None = None
        self._waiters: list[tuple[callable, asyncio.Future]] = []

    async def open(self) -> None:
        self.ws = await connect(self.url, **self.connect_kwargs)
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                self.frames.append(frame)
                for message in frame.get("messages") or []:
                    self.messages[message["id"]] = message
                if frame["type"] == "message.new":
                    self.deliveries[frame["message"]["id"]] += 1
                if frame["type"] in ("message.new", "message.ack"):
                    self.message_frames += 1
                    self.messages[frame["message"]["id"]] = frame["message"]
                for match, future in list(self._waiters):
                    if not future.done() and match(frame):
                        future.set_result(frame)
        except Exception:  # noqa: BLE001 — a dropped connection ends the reader; the test reconnects
            pass

    async def wait(self, match, timeout: float = 10) -> dict:
        for frame in self.frames:
            if match(frame):
                return frame
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((match, future))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiters.remove((match, future))

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    async def say(self, body: str, client_id: str | None = None, **extra) -> dict:
        client_id = client_id or f"live-{next(_ids)}"
        await self.send({"type": "message.send", "client_id": client_id, "body": body, **extra})
        ack = await self.wait(lambda f: f["type"] == "message.ack" and f["client_id"] == client_id)
        return ack["message"]

    def has_body(self, body: str):
        return lambda f: f["type"] == "message.new" and f["message"]["body"] == body

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    def forget_frames(self) -> None:
        self.frames.clear()


def widget_url(base: str, site_key: str) -> str:
    return f"{base}/ws/widget/{site_key}/"


def agent_url(base: str) -> str:
    return f"{base}/ws/agent/"
