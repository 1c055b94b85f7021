"""The refusals a chat service can answer with; the transports turn them into `error` frames or HTTP 4xx."""

from __future__ import annotations


class ChatError(Exception):
    """A refused request. `code` is one of protocol.md's error codes."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail
