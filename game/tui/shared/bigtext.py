"""Join codes in large type, readable from the back of a room.

A 5-row block font for exactly the characters a join code can hold
(``game.core.session.CODE_ALPHABET``), so no look-alike ever has to be drawn.
"""

from __future__ import annotations

FONT = {
    "A": [" ███ ", "█   █", "█████", "█   █", "█   █"],
    "C": [" ████", "█    ", "█    ", "█    ", " ████"],
    "D": ["████ ", "█   █", "█   █", "█   █", "████ "],
    "E": ["█████", "█    ", "████ ", "█    ", "█████"],
    "F": ["█████", "█    ", "████ ", "█    ", "█    "],
    "H": ["█   █", "█   █", "█████", "█   █", "█   █"],
    "J": ["  ███", "    █", "    █", "█   █", " ███ "],
    "K": ["█   █", "█  █ ", "███  ", "█  █ ", "█   █"],
    "M": ["█   █", "██ ██", "█ █ █", "█   █", "█   █"],
    "N": ["█   █", "██  █", "█ █ █", "█  ██", "█   █"],
    "P": ["████ ", "█   █", "████ ", "█    ", "█    "],
    "R": ["████ ", "█   █", "████ ", "█  █ ", "█   █"],
    "T": ["█████", "  █  ", "  █  ", "  █  ", "  █  "],
    "U": ["█   █", "█   █", "█   █", "█   █", " ███ "],
    "V": ["█   █", "█   █", "█   █", " █ █ ", "  █  "],
    "W": ["█   █", "█   █", "█ █ █", "██ ██", "█   █"],
    "X": ["█   █", " █ █ ", "  █  ", " █ █ ", "█   █"],
    "Y": ["█   █", " █ █ ", "  █  ", "  █  ", "  █  "],
    "3": ["████ ", "    █", " ███ ", "    █", "████ "],
    "4": ["█   █", "█   █", "█████", "    █", "    █"],
    "6": [" ███ ", "█    ", "████ ", "█   █", " ███ "],
    "7": ["█████", "    █", "   █ ", "  █  ", "  █  "],
    "9": [" ███ ", "█   █", " ████", "    █", " ███ "],
    "-": ["     ", "     ", "█████", "     ", "     "],
}


def big(text: str) -> str:
    """Five lines of block letters; characters outside the font are left blank."""
    blank = ["     "] * 5
    glyphs = [FONT.get(ch.upper(), blank) for ch in text]
    return "\n".join("  ".join(g[row] for g in glyphs) for row in range(5))
