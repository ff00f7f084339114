"""The facilitator's console: ``crossroads host`` (server inside) and ``crossroads facilitate URL``.

One screen to run the room: the join code in large type, the roster of every organisation
and group, phase controls on keys, patterns and injects, a live chart of the metrics per
organisation and an event log; the debrief on its own screen.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Label, OptionList, RichLog, Select, Static
from textual.widgets.option_list import Option

from game.client.link import Link, NotConnected, Refused
from game.core.deck import GROUPS
from game.tui.bigtext import big
from game.tui.participant import ConnectionChanged, HelpScreen, ServerMessage
from game.tui.text import PHASE_NAMES, SHORT_GROUPS, literal, spark
from game.tui.widgets import TimerBar, debrief_renderable


class Pick(ModalScreen[str | None]):
    """Pick one of a few choices (a pattern, an inject, a group)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text, self.choices = title, choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self.title_text, "bold"))
            yield OptionList(*[Option(literal(label), id=value) for value, label in self.choices], id="pick")
            yield Button("Cancel", id="cancel")

    @on(OptionList.OptionSelected, "#pick")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    BINDINGS = [Binding("escape,n", "no", "No"), Binding("y", "yes", "Yes")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self.question, "bold"))
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no", variant="primary")

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)


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
        Binding("f1,question_mark", "app.help", "Help"),
    ]

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


class FacilitatorView(Message):
    def __init__(self, view: dict[str, Any]) -> None:
        super().__init__()
        self.view = view


class FacilitatorApp(App[None]):
    """The facilitator's console."""

    TITLE = "Crossroads - facilitator"
    CSS_PATH = "facilitator.tcss"
    SCREENS = {"console": ConsoleScreen}
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        join_address: str = "",
        create: dict[str, Any] | None = None,
        embedded: Any = None,
        clock: Any = None,
    ) -> None:
        super().__init__()
        self.url, self.secret = url, secret
        self.join_address = join_address or url.removeprefix("ws://")
        self.create = create
        self.embedded = embedded
        self.link: Link | None = None
        self.view: dict[str, Any] = {}
        self.seen_seats: dict[str, dict[str, Any]] = {}
        self.phase = ""
        self.events: list[Text] = []
        self.clock = clock or (lambda: time.strftime("%H:%M:%S"))

    async def on_mount(self) -> None:
        self.push_screen("console")
        if self.embedded is not None and self.embedded.hub is None:
            await self.embedded.start()
            hub = self.embedded.hub
            self.url, self.secret = self.embedded.url, hub.secret
            if hub.session is not None and hub.session.phase != "ended":
                note = f"Resumed session {hub.session.code} from the journal in {hub.journal.path}."
                self.call_after_refresh(self.log_line, note, "bold green")
                self.create = None
        self.run_link()

    @work(exclusive=True, group="link")
    async def run_link(self) -> None:
        self.link = Link(
            self.url,
            "/v1/facilitator",
            token=self.secret,
            on_message=lambda m: self.post_message(ServerMessage(m)),
            on_state=lambda s, r: self.post_message(ConnectionChanged(s, r)),
        )
        await self.link.run()

    def log_line(self, text: str | Text, style: str = "") -> None:
        """Add to the event log; kept by the app so nothing is lost while a dialog is open."""
        stamp = self.clock()
        line = Text.assemble((stamp + "  ", "dim"), text if isinstance(text, Text) else Text(text, style=style))
        self.events.append(line)
        for screen in self.screen_stack:
            for log in screen.query("#log").results(RichLog):
                log.write(line)

    def on_connection_changed(self, event: ConnectionChanged) -> None:
        if event.state == "connected":
            self.log_line("Connected to the server.", "green")
        elif event.state == "reconnecting":
            self.log_line("Lost the server; reconnecting…", "yellow")
        elif event.state == "closed" and event.reason:
            self.log_line(event.reason, "red")
            self.notify(event.reason, severity="error", timeout=10)

    @work(group="requests")
    async def create_session(self, create: dict[str, Any]) -> None:
        try:
            await self.link.request({"type": "create_session", **create})  # type: ignore[union-attr]
        except Refused as exc:
            self.log_line(f"Could not create the session: {exc.message}", "red")
        except (NotConnected, TimeoutError):
            self.log_line("Could not create the session: the server did not answer.", "red")

    def on_server_message(self, event: ServerMessage) -> None:
        message = event.message
        kind = message.get("type")
        if kind == "welcome":
            running = message.get("session")
            if running and self.create:
                self.log_line(f"Session {running} is already running on this server; this console shows it.", "yellow")
            elif self.create and not self.view:
                self.create_session(self.create)
            elif not running:
                self.log_line(
                    f"No session is running on this server. Start one from here: crossroads facilitate {self.url} DECK --orgs N",
                    "yellow",
                )
        elif kind == "facilitator_view":
            self.show(message["view"])
        elif kind == "message":
            m = message["message"]
            self.log_line(
                Text.assemble(
                    ("message ", "dim"),
                    f"org {m['org'] + 1} ",
                    literal(m["name"], "bold"),
                    (f" ({SHORT_GROUPS.get(m['from'], m['from'])} → {SHORT_GROUPS.get(m['to'], m['to'])}): ", "dim"),
                    literal(m["text"]),
                )
            )

    def show(self, view: dict[str, Any]) -> None:
        previous, self.view = self.view, view
        session = view["session"]
        if not previous:
            self.log_line(Text.assemble(("Session ", "bold green"), (session["code"], "bold green"), ": ", literal(session["title"])))
        if session["phase"] != self.phase:
            self.phase = session["phase"]
            round_text = f", round {session['round']} of {session['rounds']}" if session["round"] else ""
            self.log_line(f"Phase: {PHASE_NAMES.get(session['phase'], session['phase'])}{round_text}", "bold")
        if not isinstance(self.screen, ConsoleScreen):
            return
        screen = self.screen
        screen.query_one("#code", Static).update(big(session["code"]))
        total = sum(len(o["seats"]) for o in view["orgs"])
        online = sum(1 for o in view["orgs"] for s in o["seats"] if s["connected"])
        how = Text.assemble(
            ("Participants type:\n", "bold"),
            (f"  crossroads join {self.join_address} --code {session['code']}\n", "bold cyan"),
            literal(session["title"], "italic"),
            "\n",
            (f"{PHASE_NAMES.get(session['phase'], session['phase'])}", "bold reverse"),
            f"  round {session['round']} of {session['rounds']}  ·  {online} of {total} online  ·  ",
            ("lobby locked" if session["locked"] else "lobby open", "red" if session["locked"] else "green"),
        )
        screen.query_one("#join-how", Static).update(how)
        screen.query_one(TimerBar).clock = session
        self.fill_roster(view)
        self.fill_chart(view)
        for org in view["orgs"]:
            for seat in org["seats"]:
                before = self.seen_seats.get(seat["seat"])
                if before is None and previous:
                    self.log_line(
                        Text.assemble(literal(seat["name"], "bold"), f" joined: org {org['org'] + 1}, {SHORT_GROUPS[seat['group']]}")
                    )
                elif before and before["connected"] and not seat["connected"]:
                    self.log_line(Text.assemble(literal(seat["name"], "bold"), " went offline"), "yellow")
                self.seen_seats[seat["seat"]] = seat

    def fill_roster(self, view: dict[str, Any]) -> None:
        table = self.screen.query_one("#roster", DataTable)
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
        from rich.console import Group as RichGroup

        self.screen.query_one("#chart", Static).update(RichGroup(*blocks))

    # -- commands -------------------------------------------------------------------------

    async def send(self, message: dict[str, Any], done: str = "") -> bool:
        if self.link is None:
            return False
        try:
            await self.link.request(message)
        except Refused as exc:
            self.notify(exc.message, severity="warning", timeout=6)
            self.log_line(exc.message, "yellow")
            return False
        except (NotConnected, TimeoutError):
            self.notify("Not connected to the server.", severity="error")
            return False
        if done:
            self.log_line(done)
        return True

    # Requests run in workers so that a slow answer never holds up keys or view updates.

    @work(group="requests")
    async def send_in_background(self, message: dict[str, Any], done: str = "") -> None:
        await self.send(message, done)

    def action_command(self, kind: str) -> None:
        messages = {
            "start": "Started.",
            "advance": "",
            "extend": "Added a minute.",
            "call_timeout": "Time-out called.",
            "botify_stalled": "Handed stalled seats to bots.",
        }
        message: dict[str, Any] = {"type": kind}
        if kind == "extend":
            message["seconds"] = 60
        self.send_in_background(message, messages.get(kind, ""))

    def action_pause(self) -> None:
        paused = self.view.get("session", {}).get("paused")
        self.send_in_background({"type": "resume" if paused else "pause"}, "Resumed." if paused else "Paused.")

    def action_lock(self) -> None:
        locked = self.view.get("session", {}).get("locked")
        self.send_in_background({"type": "unlock" if locked else "lock"}, "Lobby open." if locked else "Lobby locked.")

    def selected_seat(self) -> str | None:
        table = self.screen.query_one("#roster", DataTable) if isinstance(self.screen, ConsoleScreen) else None
        if table is None or not table.row_count:
            self.notify("Select a participant in the roster first (↑/↓).", severity="warning")
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @work
    async def action_kick(self) -> None:
        seat = self.selected_seat()
        if seat and await self.push_screen_wait(Confirm(f"Remove {self.seen_seats[seat]['name']} from the session?")):
            await self.send({"type": "kick", "seat": seat}, f"Removed {self.seen_seats[seat]['name']}.")

    @work
    async def action_move(self) -> None:
        seat = self.selected_seat()
        if not seat:
            return
        choices = [(f"{i}:{g}", f"Organisation {i + 1}, {SHORT_GROUPS[g]}") for i in range(len(self.view["orgs"])) for g in GROUPS]
        picked = await self.push_screen_wait(Pick(f"Move {self.seen_seats[seat]['name']} to…", choices))
        if picked:
            org, group = picked.split(":")
            await self.send({"type": "move", "seat": seat, "org": int(org), "group": group}, "Moved.")

    @work
    async def action_pattern(self) -> None:
        if not self.view:
            return
        orgs = [(str(o["org"]), f"Organisation {o['org'] + 1} (now {self.view['patterns'][o['pattern']]})") for o in self.view["orgs"]]
        org = orgs[0][0] if len(orgs) == 1 else await self.push_screen_wait(Pick("Change the pattern of…", orgs))
        if org is None:
            return
        pattern = await self.push_screen_wait(Pick("Pattern from the next round on", list(self.view["patterns"].items())))
        if pattern:
            await self.send(
                {"type": "set_pattern", "org": int(org), "pattern": pattern},
                f"Organisation {int(org) + 1} now plays {self.view['patterns'][pattern]}.",
            )

    @work
    async def action_inject(self) -> None:
        injects = self.view.get("injects", [])
        if not injects:
            self.notify("This deck has no injects.")
            return
        picked = await self.push_screen_wait(Pick("Fire an inject (for every organisation)", [(i["id"], i["label"]) for i in injects]))
        if picked:
            await self.send({"type": "inject", "inject": picked}, f"Inject fired: {picked}.")

    def action_debrief(self) -> None:
        debrief = self.view.get("debrief")
        if not debrief:
            self.notify("The debrief opens after the last round.", severity="information")
            return
        self.push_screen(DebriefScreen(debrief))

    @work
    async def action_end(self) -> None:
        if await self.push_screen_wait(Confirm("End the session for everyone?")):
            await self.send({"type": "end"}, "Session ended.")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen("facilitator_help.md"))

    async def action_quit(self) -> None:
        if self.link is not None:
            await self.link.stop()
        if self.embedded is not None:
            await self.embedded.close()
        self.exit()


def read_secret(secret: str, secret_file: str) -> str:
    if secret:
        return secret
    path = Path(secret_file)
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ValueError(f"cannot read the facilitator secret from {path}: {exc.strerror}") from None
