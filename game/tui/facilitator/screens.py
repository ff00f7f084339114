"""The console's screens: the room at a glance (join code, roster, chart, log) and the debrief."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group as RichGroup
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, RichLog, Select, Static

from game.tui.shared.bigtext import big
from game.tui.shared.qr import BrowserJoinScreen, browser_address
from game.tui.shared.text import PHASE_NAMES, SHORT_GROUPS, literal, spark
from game.tui.shared.widgets import TimerBar, debrief_renderable


class DebriefScreen(Screen[None]):
    """The debrief: per metric, change by lever and over the rounds, organisations side by
    side, counterfactuals, conversations and time-out answers."""

    BINDINGS = [Binding("escape,d", "app.pop_screen", "Back to the console"), Binding("f1,question_mark", "app.help", "Help")]

    def __init__(self, debrief: dict[str, Any]) -> None:
        super().__init__()
        self.debrief = debrief

    def compose(self) -> ComposeResult:
        metrics = self.debrief["metrics"]
        yield Static(Text("Debrief: the whole system", style="bold"), id="debrief-title")
        yield Select([("Every metric", "")] + [(m["label"], name) for name, m in metrics.items()], value="", allow_blank=False, id="metric")
        with VerticalScroll(id="debrief-body"):
            yield Static(debrief_renderable(self.debrief), id="debrief-view")
        yield Footer()

    @on(Select.Changed, "#metric")
    def show_metric(self, event: Select.Changed) -> None:
        self.query_one("#debrief-view", Static).update(debrief_renderable(self.debrief, str(event.value) or None))


class ConsoleScreen(Screen[None]):
    """Runs the room: every command on a key, the state of every organisation and seat."""

    BINDINGS = [
        Binding("s", "app.command('start')", "Start"),
        Binding("n", "app.command('advance')", "Next phase"),
        Binding("p", "app.pause", "Pause/resume"),
        Binding("plus,a", "app.command('extend')", "+1 min"),
        Binding("t", "app.command('call_timeout')", "Time-out"),
        Binding("b", "app.command('botify_stalled')", "Bots for stalled"),
        Binding("k", "app.kick", "Kick"),
        Binding("m", "app.move", "Move"),
        Binding("c", "app.pattern", "Pattern"),
        Binding("i", "app.inject", "Inject"),
        Binding("l", "app.lock", "Lock lobby"),
        Binding("d", "app.debrief", "Debrief"),
        Binding("e", "app.end", "End"),
        Binding("w", "browser_join", "Browser QR"),
        Binding("f1,question_mark", "app.help", "Help"),
    ]
    join = ("", "")  # (address participants reach, join code), once a session is shown

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static(big("------"), id="code")
            yield Static("", id="join-how")
        yield TimerBar(id="timer")
        with Horizontal(id="middle"):
            yield DataTable(id="roster", cursor_type="row", zebra_stripes=True)
            yield VerticalScroll(Static("", id="chart"), id="chart-box")
        yield RichLog(id="log", wrap=True, markup=False, highlight=False, min_width=20)
        yield Footer()

    def on_mount(self) -> None:
        roster = self.query_one("#roster", DataTable)
        for column in ("Org", "Group", "Name", "Online", "Chosen", "Last seen", "Seat"):
            roster.add_column(column, key=column)

    def show(self, view: dict[str, Any], join_address: str) -> None:
        """Show the facilitator's view of the session."""
        session = view["session"]
        self.query_one("#code", Static).update(big(session["code"]))
        total = sum(len(o["seats"]) for o in view["orgs"])
        online = sum(1 for o in view["orgs"] for s in o["seats"] if s["connected"])
        how = Text.assemble(
            ("Participants type:\n", "bold"),
            (f"  crossroads join {join_address} --code {session['code']}\n", "bold cyan"),
            ("or open ", "bold"),
            (browser_address(join_address, session["code"]), "bold cyan"),
            (" in a browser (w: QR code)\n", "bold"),
            literal(session["title"], "italic"),
            "\n",
            (f"{PHASE_NAMES.get(session['phase'], session['phase'])}", "bold reverse"),
            f"  round {session['round']} of {session['rounds']}  ·  {online} of {total} online  ·  ",
            ("lobby locked" if session["locked"] else "lobby open", "red" if session["locked"] else "green"),
        )
        self.query_one("#join-how", Static).update(how)
        self.join = (join_address, session["code"])
        self.query_one(TimerBar).clock = session
        self.fill_roster(view)
        self.fill_chart(view)

    def action_browser_join(self) -> None:
        """The browser address and its QR code, for participants to scan."""
        if self.join[1]:
            self.app.push_screen(BrowserJoinScreen(*self.join))

    def fill_roster(self, view: dict[str, Any]) -> None:
        table = self.query_one("#roster", DataTable)
        cursor = table.cursor_row
        table.clear()
        now = time.time()
        for org in view["orgs"]:
            for seat in org["seats"]:
                last = "now" if seat["connected"] else (f"{int(now - seat['last_seen'])} s ago" if seat["last_seen"] else "—")
                table.add_row(
                    f"{org['org'] + 1}",
                    SHORT_GROUPS[seat["group"]],
                    literal(seat["name"]),
                    Text("●", style="green") if seat["connected"] else Text("○", style="red"),
                    Text("✔", style="green") if seat["chosen"] else "",
                    last,
                    "bot" if seat["bot"] else "",
                    key=seat["seat"],
                )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def fill_chart(self, view: dict[str, Any]) -> None:
        """Per organisation: its pattern, how many have chosen, and each metric with its trend."""
        blocks = []
        for org in view["orgs"]:
            progress = org["progress"]
            table = Table(
                box=None,
                expand=True,
                show_header=False,
                padding=(0, 1),
                title_justify="left",
                title=Text.assemble(
                    (f"Organisation {org['org'] + 1}", "bold"),
                    "  ",
                    literal(view["patterns"].get(org["pattern"], org["pattern"]), "cyan"),
                    f"  ·  {progress['chosen']}/{progress['of']} chosen",
                ),
            )
            table.add_column("metric", ratio=3, no_wrap=True, overflow="ellipsis")
            table.add_column("value", justify="right", width=6)
            table.add_column("trend", ratio=2, no_wrap=True)
            for name, label in view["metrics"].items():
                values = [h[name] for h in org["history"]]
                table.add_row(literal(label), f"{org['metrics'][name]:.1f}", spark(values, 0, 100))
            blocks.append(table)
        self.query_one("#chart", Static).update(RichGroup(*blocks))

    def selected_seat(self) -> str | None:
        """The seat under the roster's cursor, if the roster has any."""
        table = self.query_one("#roster", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
