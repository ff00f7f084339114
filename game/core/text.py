"""Text from people, cleaned in one place for the server and the apps.

Control and bidi characters are removed, so no escape sequence reaches a terminal and no
text reorders the line around it; markup is kept as typed and shown literally by the clients.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls (tab and newline excepted), zero-width and direction marks, bidi embeddings and isolates
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def strip_controls(value: object) -> str:
    """``value`` as text without control or bidi characters; nothing else changes."""
    return CONTROL.sub("", str(value))


def clean_text(text: str, limit: int, *, single_line: bool = False) -> str:
    """Text a person typed, ready to keep: NFC, controls stripped, trimmed, at most ``limit`` characters."""
    text = unicodedata.normalize("NFC", text)
    if single_line:
        text = " ".join(text.split())
    text = strip_controls(text.replace("\r\n", "\n").replace("\t", " "))
    return text.strip()[:limit]
