"""Text from participants and decks is shown literally: never parsed as markup, and with
control characters removed so no escape sequence reaches the terminal."""

from __future__ import annotations

from rich.text import Text

from game.core.text import strip_controls

LEVER_NAMES = {
    "special_treatment": "special treatment",
    "considerateness": "considerateness",
    "interaction": "interaction",
    "other": "other",
}
LEVER_STYLES = {"special_treatment": "magenta", "considerateness": "green", "interaction": "cyan", "other": "grey62"}
PHASE_NAMES = {
    "lobby": "Lobby",
    "brief": "Brief",
    "talk": "Talk",
    "choose": "Choose",
    "resolve": "Resolving",
    "reveal": "Reveal",
    "timeout": "Time-out",
    "debrief": "Debrief",
    "ended": "Ended",
}
PHASE_HINTS = {
    "lobby": "Waiting for the facilitator to start.",
    "brief": "Read your side of the situation.",
    "talk": "Talk along the open channels: press t to write, Enter to send, Esc to leave the line.",
    "choose": "Pick one option. You can change it until the timer ends.",
    "resolve": "The round is being resolved...",
    "reveal": "See what changed, and why.",
    "timeout": "Reflect: answer the prompts.",
    "debrief": "The whole system, as everyone played it.",
    "ended": "The session has ended. Thank you for playing.",
}
SPARKS = "▁▂▃▄▅▆▇█"


clean = strip_controls  # one filter for server and apps


def literal(value: object, style: str = "") -> Text:
    """A Text that shows ``value`` exactly as typed."""
    return Text(clean(value), style=style)


def prose(value: object, style: str = "") -> Text:
    """Deck text as paragraphs: single line breaks from the TOML file become spaces."""
    paragraphs = [" ".join(p.split()) for p in clean(value).split("\n\n")]
    return Text("\n\n".join(p for p in paragraphs if p), style=style)


SHORT_GROUPS = {"top": "Tops", "middle": "Middles", "bottom": "Bottoms", "customer": "Customers"}


def spark(values: list[float], low: float, high: float) -> str:
    """A sparkline of values in the range low..high."""
    if not values or high <= low:
        return ""
    out = []
    for v in values:
        i = int((min(max(v, low), high) - low) / (high - low) * (len(SPARKS) - 1) + 0.5)
        out.append(SPARKS[i])
    return "".join(out)


def bar(value: float, scale: float, width: int = 20) -> str:
    """A horizontal bar for a signed value: left of the centre when negative."""
    if scale <= 0:
        return " " * (2 * width + 1)
    n = min(width, int(round(abs(value) / scale * width)))
    if value < 0:
        return " " * (width - n) + "█" * n + "│" + " " * width
    return " " * width + "│" + "█" * n + " " * (width - n)


def signed(value: float) -> str:
    return f"{value:+.1f}" if abs(value) >= 0.05 else "0.0"
