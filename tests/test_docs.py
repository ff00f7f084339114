"""The docs describe what the code does: every message, error code and command is documented."""

from __future__ import annotations

from pathlib import Path

from game.protocol import ERROR_CODES, FACILITATOR_MESSAGES, PARTICIPANT_MESSAGES
from game.session import ALLOWED

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_protocol_doc_names_every_message_and_error_code():
    text = (DOCS / "protocol.md").read_text()
    for kind in {*FACILITATOR_MESSAGES, *PARTICIPANT_MESSAGES}:
        assert f"`{kind}`" in text, kind
    for code in ERROR_CODES:
        assert f"`{code}`" in text, code
    for phase in ALLOWED:
        assert f"`{phase}`" in text, phase
    for server_message in ("welcome", "joined", "view", "you", "progress", "message", "ack", "error", "pong", "facilitator_view", "clock"):
        assert f"`{server_message}`" in text, server_message
