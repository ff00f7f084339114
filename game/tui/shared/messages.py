"""Messages both apps' links post to the app: what the server sent, and how the link is."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class ServerMessage(Message):
    """One message from the server, as the link received it."""

    def __init__(self, message: dict[str, Any]) -> None:
        super().__init__()
        self.message = message


class ConnectionChanged(Message):
    """The link's state ("connecting", "connected", "reconnecting", "closed") and why."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__()
        self.state, self.reason = state, reason
