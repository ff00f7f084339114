"""The participant's status bar: the phase, the round and the timer first, so that they stay in
view at 80 columns, then where the player sits and the connection."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from game.tui.shared.text import PHASE_NAMES, literal
from game.tui.shared.widgets import TimerBar

CONNECTION = {
    "connected": ("● connected", "green"),
    "connecting": ("○ connecting…", "yellow"),
    "reconnecting": ("◌ reconnecting…", "bold yellow"),
    "closed": ("✕ disconnected", "red"),
    "ended": ("■ session ended", "bold"),  # closed because the facilitator ended it: nothing is wrong
}


class PhaseBar(Widget):
    """Line one: phase, round, timer, connection. Line two: organisation and group."""

    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)
    connection: reactive[tuple[str, str]] = reactive(("connecting", ""))

    def compose(self) -> ComposeResult:
        with Horizontal(id="phase-row"):
            yield Static("", id="phase-name")
            yield TimerBar()
            yield Static("", id="connection")
        yield Static("", id="where")

    def watch_view(self, view: dict[str, Any]) -> None:
        if not view:
            return
        session = view["session"]
        rounds = f"Round {max(session['round'], 1)} of {session['rounds']}" if session["round"] else f"{session['rounds']} rounds"
        self.query_one("#phase-name", Static).update(
            Text.assemble((f" {PHASE_NAMES.get(session['phase'], session['phase'])} ", "bold reverse"), "  ", (rounds, "bold"), "  ")
        )
        where = Text.assemble(f"Organisation {view['org'] + 1}", "  ·  ", literal(view["group_name"], "bold"))
        where.truncate(max(10, self.size.width - 2), overflow="ellipsis")
        self.query_one("#where", Static).update(where)
        self.query_one(TimerBar).clock = session

    def watch_connection(self, value: tuple[str, str]) -> None:
        text, style = CONNECTION.get(value[0], (value[0], ""))
        self.query_one("#connection", Static).update(Text(text, style=style))
