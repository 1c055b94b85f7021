"""Websocket consumers: thin transport over chat.services (protocol.md)."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class WidgetConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.close(code=4400)


class AgentConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.close(code=4401)
