"""Websocket consumers: thin transport over chat.services (protocol.md, docs/protocol.md)."""

from chat.consumers.agent import AgentConsumer
from chat.consumers.widget import WidgetConsumer

__all__ = ["AgentConsumer", "WidgetConsumer"]
