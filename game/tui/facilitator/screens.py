"""The console's screens: the room at a glance (join code, roster, chart, log) and the debrief."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group as RichGroup
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, RichLog, Static

from game.core.protocol import (
    Admit,
    Advance,
    BotifyStalled,
    CallTimeout,
    End,
    Extend,
    Inject,
    Kick,
    Lock,
    Move,
    Pause,
    SetPattern,
    Start,
)
from game.core.session.phases import ALLOWED, TIMED_PHASES
from game.tui.shared.bigtext import big
from game.tui.shared.qr import BrowserJoinScreen, browser_address
from game.tui.shared.story import StoryView
from game.tui.shared.text import PHASE_NAMES, SHORT_GROUPS, literal, spark
from game.tui.shared.widgets import TimerBar

KEYS = [
    ("s", "start"),
    ("n", "next phase"),
    ("p", "pause"),
    ("+", "1 min"),
    ("t", "time-out"),
    ("b", "bots for stalled"),
    ("↑↓", "select"),
    ("k", "kick"),
    ("r", "readmit"),
    ("m", "move"),
    ("c", "pattern"),
    ("i", "inject"),
    ("w", "browser QR"),
    ("l", "lock"),
    ("d", "debrief"),
    ("e", "end"),
    ("F1", "help"),
    ("^q", "quit"),
]
# the command behind each key: the bar offers a key only in the phases that allow its command
KEY_COMMANDS: dict[str, type] = {
    "s": Start,
    "n": Advance,
    "p": Pause,
    "+": Extend,
    "t": CallTimeout,
    "b": BotifyStalled,
    "k": Kick,
    "r": Admit,
    "m": Move,
    "c": SetPattern,
    "i": Inject,
    "l": Lock,
    "e": End,
}


def keys_for(phase: str) -> set[str]:
    """The console's keys that do something in ``phase`` (the debrief's key once there is one)."""
    allowed = ALLOWED.get(phase, frozenset())
    return {
        key
        for key, _label in KEYS
        if (key not in KEY_COMMANDS or KEY_COMMANDS[key] in allowed)
        and (key != "d" or phase in ("debrief", "ended"))
        and (key not in ("p", "+") or phase in TIMED_PHASES)  # no timer to pause or extend
    }


DEBRIEF_KEYS = [("↑↓ PgUp PgDn", "scroll"), ("a", "answers to show"), ("x", "export"), ("Esc", "back"), ("F1", "help")]


def key_bar(keys: list[tuple[str, str]], active: set[str] | None = None) -> Text:
    """Every key on one wrapping line: nothing hidden behind a cut-off footer. Keys that do
    nothing in this phase stay in their place, dimmed."""
    text = Text()
    for key, label in keys:
        on = active is None or key in active
        text.append(f" {key} ", style="bold reverse" if on else "dim reverse")
        text.append(f" {label}  ", style="" if on else "dim")
    return text


class DebriefScreen(Screen[None]):
    """The debrief: the story of the session, section by section (the counterfactual first),
    with a chart of each metric over the rounds; a picks the answers the room sees, x exports."""

    BINDINGS = [
        Binding("escape,d", "back", "Back to the console"),
        Binding("a", "app.show_answers", "Answers to show"),
        Binding("x", "app.export", "Export"),
        Binding("f1,question_mark", "app.help", "Help"),
    ]

    def __init__(self, debrief: dict[str, Any], read_only: bool = False) -> None:
        super().__init__()
        self.debrief = debrief
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        story = self.debrief["story"]
        title = f"Debrief: {story['title']}" + ("  (read-only)" if self.read_only else "")
        yield Static(Text(title, style="bold"), id="debrief-title")
        yield StoryView(story, id="story")
        keys = [k for k in DEBRIEF_KEYS if not (self.read_only and k[0] in ("a", "Esc"))]
        yield Static(key_bar(keys), id="keys")

    def on_mount(self) -> None:
        self.query_one(StoryView).focus()

    def action_back(self) -> None:
        if not self.read_only:
            self.app.pop_screen()


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
        Binding("r", "app.admit", "Readmit"),
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
            with Vertical(id="chart-box"):
                yield VerticalScroll(Static("", id="chart"), id="chart-scroll")
        yield RichLog(id="log", wrap=True, markup=False, highlight=False, min_width=20)
        yield Static(key_bar(KEYS), id="keys")

    def on_resize(self) -> None:
        self.set_class(self.size.width < 110 or self.size.height < 32, "-small")

    def on_mount(self) -> None:
        roster = self.query_one("#roster", DataTable)
        for column in ("Org", "Group", "Name", "Online", "Chosen", "Last seen", "Seat"):
            roster.add_column(column, key=column)

    def show(self, view: dict[str, Any], join_addresses: list[str]) -> None:
        """Show the facilitator's view of the session."""
        session = view["session"]
        self.query_one("#keys", Static).update(key_bar(KEYS, keys_for(session["phase"])))
        self.query_one("#code", Static).update(big(session["code"]))
        total = sum(len(o["seats"]) for o in view["orgs"])
        online = sum(1 for o in view["orgs"] for s in o["seats"] if s["connected"])
        how = Text.assemble(
            (f"{PHASE_NAMES.get(session['phase'], session['phase'])}", "bold reverse"),
            f"  round {session['round']} of {session['rounds']}  ·  {online} of {total} online  ·  ",
            *(
                (("session ended", "bold"),)
                if session["phase"] == "ended"
                else (("lobby locked" if session["locked"] else "lobby open", "red" if session["locked"] else "green"),)
            ),
            "\n",
            ("Participants type:", "bold"),
        )
        for address in join_addresses[:3]:
            how.append(f"\n  crossroads join {address} --code {session['code']}", style="bold cyan")
        if len(join_addresses) > 3:
            how.append(f"\n  (or {', '.join(a.rsplit(':', 1)[0] for a in join_addresses[3:])})", style="cyan")
        if all(_loopback(a) for a in join_addresses):
            how.append("\n⚠ Only this machine can use that address: no network address was found.", style="bold red")
        first = join_addresses[0] if join_addresses else ""
        if first:
            how.append("\nor open ", style="bold")
            how.append(browser_address(first, session["code"]), style="bold cyan")
            how.append(" in a browser (w: QR code)", style="bold")
        how.append("\n")
        how.append_text(literal(session["title"], "italic"))
        self.query_one("#join-how", Static).update(how)
        self.join = (first, session["code"])
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
        selected = self.selected_seat()  # the highlight follows this person, wherever the view puts them
        table.clear()
        now = time.time()
        for org in view["orgs"]:
            for seat in org["seats"]:
                last = "now" if seat["connected"] else (f"{int(now - seat['last_seen'])} s ago" if seat["last_seen"] else "—")
                table.add_row(
                    f"{org['org'] + 1}",
                    SHORT_GROUPS[seat["group"]],
                    literal(seat["name"][:16] + ("…" if len(seat["name"]) > 16 else "")),
                    Text("●", style="green") if seat["connected"] else Text("○", style="red"),
                    Text("✔", style="green") if seat["chosen"] else "",
                    last,
                    "bot" if seat["bot"] else "",
                    key=seat["seat"],
                )
        if table.row_count:
            try:
                row = table.get_row_index(selected) if selected is not None else cursor
            except Exception:  # noqa: BLE001 - the person left: stay near the same place
                row = cursor
            table.move_cursor(row=min(row, table.row_count - 1))

    def fill_chart(self, view: dict[str, Any]) -> None:
        """Per organisation: its pattern, how many have chosen, and each metric with its trend."""
        blocks = []
        for org in view["orgs"]:
            progress = org["progress"]
            bots = sum(1 for s in org["seats"] if s["bot"])
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
                    (f", {bots} played by bots for now" if bots else "", "yellow"),
                ),
            )
            table.add_column("metric", ratio=3, no_wrap=True, overflow="ellipsis")
            table.add_column("value", justify="right", width=6)
            table.add_column("trend", ratio=2, no_wrap=True)
            for name, label in view["metrics"].items():
                values = [h[name] for h in org["history"]]
                low, high = min(values), max(values)
                table.add_row(literal(label), f"{org['metrics'][name]:.1f}", spark(values, low, high if high > low else low + 1))
            blocks.append(table)
            blocks.extend(_org_detail(view, org))
        answered = view.get("answered")
        if view["session"]["phase"] == "timeout" and answered:
            blocks.append(Text(f"{answered['answered']} of {answered['of']} answered", style="bold"))
            for a in view.get("answers", [])[-8:]:
                where = f" ({SHORT_GROUPS[a['group']]}, org {a['org'] + 1}): "
                blocks.append(Text.assemble("  ", literal(a["name"], "bold"), (where, "dim"), literal(a["text"])))
        self.query_one("#chart", Static).update(RichGroup(*blocks))

    def selected_seat(self) -> str | None:
        """The seat under the roster's cursor, if the roster has any."""
        table = self.query_one("#roster", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


def _loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0]
    return host.startswith("127.") or host in ("localhost", "::1")


def _org_detail(view: dict[str, Any], org: dict[str, Any]) -> list[Text]:
    """What an organisation chose this round (counts per group), what landed, and, in the
    reveal, each change with its explanation."""
    groups = view.get("groups", {})
    lines: list[Text] = []
    for group, picks in org.get("choice_counts", {}).items():
        counts = ", ".join(f"{p['label']} {p['count']}" for p in picks)
        lines.append(Text.assemble("  ", (SHORT_GROUPS.get(group, group), "bold"), ": ", literal(counts)))
    for notice in org.get("notices", []):
        state = "landed" if notice["status"] == "landed" else "fired, lands at the resolution"
        lines.append(Text.assemble("  ", ("event ", "yellow"), literal(notice["label"]), (f" ({state})", "dim")))
    for change in org.get("explanations", []):
        who = f"{groups.get(change['group'], change['group'])}: " if change.get("group") else ""
        lines.append(
            Text.assemble(
                "  ",
                (f"{change['delta']:+.1f} ", "bold"),
                literal(change["label"]),
                (f" [{change['lever'].replace('_', ' ')}] ", "dim"),
                literal(who + change["explain"], "italic"),
            )
        )
    for shift in org.get("earned", []):
        lines.append(Text.assemble("  ", ("structure: ", "green"), literal(shift["text"])))
    return lines
