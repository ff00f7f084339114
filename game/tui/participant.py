"""``crossroads join``: the participant's app.

Screens: join (server, code, name), then the play screen whose main pane follows the
phase (lobby, brief, talk, choose, reveal, time-out, debrief), with the conversation beside
it and the status bar above. The network lives in a :class:`~game.client.Link` run as a
worker; it posts messages to the app, and the app sets attributes on its widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Group as RichGroup
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Input,
    Label,
    Markdown,
    OptionList,
    RichLog,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from game.client.link import Link, NotConnected, Refused, SeatStore, join_session, normalise_url
from game.tui.text import PHASE_HINTS, SHORT_GROUPS, literal, prose
from game.tui.widgets import StatusBar, changes_list, debrief_renderable, metrics_table

HERE = Path(__file__).resolve().parent


class ServerMessage(Message):
    def __init__(self, message: dict[str, Any]) -> None:
        super().__init__()
        self.message = message


class ConnectionChanged(Message):
    def __init__(self, state: str, reason: str) -> None:
        super().__init__()
        self.state, self.reason = state, reason


@dataclass
class Chosen(Message):
    """A player picked an option (posted by the choose pane, handled by the app). It carries
    the round of the card it was picked from: if the card has changed by the time the app
    sends it, the server refuses it as stale instead of counting it for the new round."""

    option: str
    round: int


@dataclass
class Said(Message):
    to: str
    text: str


@dataclass
class Answered(Message):
    prompt: int
    text: str


class HelpScreen(ModalScreen[None]):
    """F1 / ?: how to play, from help.md beside this file."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "app.pop_screen", "Close help")]

    def __init__(self, name: str = "participant_help.md") -> None:
        super().__init__()
        self.file = name

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown((HERE / self.file).read_text(encoding="utf-8"))
            yield Button("Close", id="close-help", variant="primary")

    @on(Button.Pressed, "#close-help")
    def close(self) -> None:
        self.app.pop_screen()


# --- joining ---------------------------------------------------------------------------


class JoinScreen(Screen[None]):
    """Server address, join code and name; remembers the last server and name."""

    BINDINGS = [Binding("f1,question_mark", "app.help", "Help", show=True)]

    def __init__(self, url: str = "", code: str = "", name: str = "", notice: str = "") -> None:
        super().__init__()
        self.url, self.code, self.player_name, self.notice = url, code, name, notice

    def compose(self) -> ComposeResult:
        with Vertical(id="join-box"):
            yield Static(Text("Crossroads", style="bold"), id="join-title")
            yield Static("Join the session your facilitator is running.", id="join-lead")
            yield Label("Server address (from the facilitator's screen)")
            yield Input(self.url, placeholder="192.168.1.20:8765", id="url")
            yield Label("Join code")
            yield Input(self.code, placeholder="6 letters and digits", id="code", max_length=12)
            yield Label("Your name, as others will see it")
            yield Input(self.player_name, placeholder="Ana", id="name", max_length=24)
            yield Button("Join", id="join", variant="primary")
            yield Static(literal(self.notice), id="join-error")
        yield Footer()

    def on_mount(self) -> None:
        for field in ("#url", "#code", "#name"):
            if not self.query_one(field, Input).value:
                self.query_one(field, Input).focus()
                break
        else:
            self.query_one("#join", Button).focus()

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        order = ["url", "code", "name"]
        current = event.input.id or ""
        if current in order[:-1]:
            self.query_one(f"#{order[order.index(current) + 1]}", Input).focus()
        else:
            self.submit()

    @on(Button.Pressed, "#join")
    def submit(self) -> None:
        url = self.query_one("#url", Input).value.strip()
        code = self.query_one("#code", Input).value.strip()
        name = self.query_one("#name", Input).value.strip()
        problem = ""
        try:
            normalise_url(url)
        except ValueError as exc:
            problem = str(exc)
        if not problem and not code:
            problem = "Type the join code shown on the facilitator's screen."
        if not problem and not name:
            problem = "Type your name."
        if problem:
            self.query_one("#join-error", Static).update(literal(problem, "bold red"))
            return
        self.query_one("#join-error", Static).update(Text("Joining…", style="yellow"))
        self.query_one("#join", Button).disabled = True
        self.join(url, code, name)

    @work(exclusive=True)
    async def join(self, url: str, code: str, name: str) -> None:
        app: ParticipantApp = self.app  # type: ignore[assignment]
        try:
            joined = await join_session(url, code, name)
        except (Refused, NotConnected) as exc:
            message = exc.message if isinstance(exc, Refused) else str(exc)
            self.query_one("#join-error", Static).update(literal(message, "bold red"))
            self.query_one("#join", Button).disabled = False
            return
        app.store.remember(url, name, code, joined["seat"], joined["token"])
        app.play(url, joined["token"])


# --- the play screen ---------------------------------------------------------------------------


class Conversation(Vertical):
    """Open and closed channels for the group, what arrives, and a line to send."""

    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)

    def compose(self) -> ComposeResult:
        yield Static("", id="channels")
        yield RichLog(id="messages", wrap=True, markup=False, highlight=False, min_width=20)
        with Horizontal(id="send-row"):
            yield Select([], id="to", prompt="to…")
            yield Input(placeholder="Say something to the group you pick", id="say", max_length=500)

    def watch_view(self, view: dict[str, Any]) -> None:
        if not view:
            return
        pattern = view["pattern"]
        groups = view["groups"]
        own = view["group"]
        text = Text.assemble(
            ("Pattern: ", "bold"),
            literal(pattern["label"]),
            "\n",
            ("You can talk to: ", "bold"),
            literal(", ".join([groups[own] + " (your group)"] + [groups[g] for g in pattern["talk_to"]])),
            "\n",
            ("You hear from: ", "bold"),
            literal(", ".join(groups[g] for g in pattern["hear_from"]) or "nobody outside your group"),
            "\n",
            ("Closed to you: ", "bold red"),
            literal(", ".join(groups[g] for g in pattern["closed_to"]) or "none", "red"),
        )
        self.query_one("#channels", Static).update(text)
        select = self.query_one("#to", Select)
        targets = [own, *pattern["talk_to"]]
        options = [(SHORT_GROUPS[g] + (" (own)" if g == own else ""), g) for g in targets]
        if [o[1] for o in options] != getattr(self, "_targets", None):
            self._targets = [o[1] for o in options]
            select.set_options(options)
            select.value = own
        open_now = view["session"]["phase"] in ("lobby", "talk", "choose", "debrief")
        say = self.query_one("#say", Input)
        say.disabled = not open_now
        say.placeholder = "Say something to the group you pick" if open_now else "Talk opens in the talk phase"

    def show_history(self, messages: list[dict[str, Any]], groups: dict[str, str]) -> None:
        log = self.query_one("#messages", RichLog)
        log.clear()
        for message in messages:
            self.add(message, groups)

    def add(self, message: dict[str, Any], groups: dict[str, str]) -> None:
        route = f" ({SHORT_GROUPS.get(message['from'], message['from'])} → {SHORT_GROUPS.get(message['to'], message['to'])})"
        who = Text.assemble(literal(message["name"], "bold"), (route, "dim"), ": ")
        self.query_one("#messages", RichLog).write(Text.assemble(who, literal(message["text"])))

    @on(Input.Submitted, "#say")
    def send(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            to = self.query_one("#to", Select).value
            self.post_message(Said(str(to), text))
            event.input.value = ""


class ChoosePane(Vertical):
    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)
    choice: reactive[str | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield Static("", id="choose-card")
        yield OptionList(id="options")
        yield Static("", id="confirmation")

    def watch_view(self, view: dict[str, Any]) -> None:
        card = view.get("card")
        options = self.query_one("#options", OptionList)
        if not card:
            return
        self.query_one("#choose-card", Static).update(Text.assemble(literal(card["title"], "bold"), "\n", literal(" ".join(card["text"]))))
        ids = [o["id"] for o in card["options"]]
        if ids != getattr(self, "_ids", None):
            self._ids = ids
            options.clear_options()
            for o in card["options"]:
                prompt = Text.assemble(
                    literal(o["label"], "bold"),
                    (" (stands if you do not choose)", "dim italic") if o["default"] else "",
                    *(("\n", literal(o["description"], "dim")) if o["description"] else ()),
                )
                options.add_option(Option(prompt, id=o["id"]))
            if card["options"]:
                options.highlighted = 0
        if not card["options"]:
            self.query_one("#confirmation", Static).update(Text("Your group has no choice to make on this card.", style="dim"))
        self.refresh_confirmation()

    def watch_choice(self) -> None:
        self.refresh_confirmation()

    def refresh_confirmation(self) -> None:
        card = self.view.get("card") if self.view else None
        if not card or not card["options"]:
            return
        labels = {o["id"]: o["label"] for o in card["options"]}
        if self.choice in labels:
            text = Text.assemble(
                ("✔ Your choice is recorded: ", "bold green"),
                literal(labels[self.choice], "bold"),
                ("\nYou can change it until the timer ends.", "dim"),
            )
        else:
            text = Text("Pick an option with ↑/↓ and Enter.", style="yellow")
        self.query_one("#confirmation", Static).update(text)

    @on(OptionList.OptionSelected, "#options")
    def picked(self, event: OptionList.OptionSelected) -> None:
        offered = [o["id"] for o in (self.view.get("card") or {}).get("options", [])]
        if event.option.id and event.option.id in offered:
            self.post_message(Chosen(event.option.id, self.view["session"]["round"]))


class TimeoutPane(VerticalScroll):
    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)

    def watch_view(self, view: dict[str, Any]) -> None:
        prompts = view.get("prompts", [])
        if prompts == getattr(self, "_prompts", None):
            return
        self._prompts = prompts
        self.remove_children()
        if not prompts:
            self.mount(Static("No prompts for your group this time."))
            return
        widgets: list[Any] = [Static(Text("Time-out: take a few minutes to reflect.", style="bold"))]
        for i, prompt in enumerate(prompts):
            widgets += [
                Label(literal(prompt)),
                TextArea(id=f"answer-{i}", classes="answer"),
                Button("Save answer", id=f"save-{i}", classes="save"),
            ]
        self.mount_all(widgets)

    def show_answers(self, answers: dict[str, str]) -> None:
        for key, text in answers.items():
            for area in self.query(f"#answer-{key}").results(TextArea):
                if not area.text:
                    area.text = text

    @on(Button.Pressed, ".save")
    def save(self, event: Button.Pressed) -> None:
        index = int((event.button.id or "save-0").split("-")[1])
        self.post_message(Answered(index, self.query_one(f"#answer-{index}", TextArea).text))


class DeckProblemsScreen(ModalScreen[None]):
    """A saved deck that does not load: every problem with its location, no crash."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Close")]

    def __init__(self, problems: list[str]) -> None:
        super().__init__()
        self.problems = problems

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text("The saved deck does not load; the game goes on with the last good version.", style="bold red"))
            yield Static(RichGroup(*(literal(p) for p in self.problems)), id="problems")
            yield Static(Text("Fix the file and save again; this closes by itself when it loads.", style="italic"))


class DemoStartScreen(Screen[None]):
    """The demo's first screen: which group to play, under which pattern."""

    BINDINGS = [Binding("f1,question_mark", "app.help", "Help")]

    def __init__(self, deck: Any) -> None:
        super().__init__()
        self.deck = deck

    def compose(self) -> ComposeResult:
        deck = self.deck
        with VerticalScroll(id="demo-box"):
            yield Static(Text.assemble(("Crossroads demo: ", "bold"), literal(deck.deck.title, "bold")))
            yield Static(prose(deck.deck.summary, "italic"))
            yield Static(Text("\nYou play one group; bots play the others. Pick an interaction pattern, then your group.", style="bold"))
            yield Select(
                [(p.label or name, name) for name, p in deck.patterns.items()], value=deck.default_pattern, allow_blank=False, id="pattern"
            )
            for group_id, group in deck.groups.items():
                yield Button(Text.assemble(literal(group.name, "bold"), (f"  ({group_id})", "dim")), id=f"play-{group_id}")
        yield Footer()

    @on(Button.Pressed)
    def picked(self, event: Button.Pressed) -> None:
        group = (event.button.id or "").removeprefix("play-")
        pattern = str(self.query_one("#pattern", Select).value)
        for button in self.query(Button):
            button.disabled = True
        self.app.start_demo(group, pattern)  # type: ignore[attr-defined]


class PlayScreen(Screen[None]):
    BINDINGS = [
        Binding("f1,question_mark", "app.help", "Help"),
        Binding("n", "app.next", "Next phase"),
        Binding("ctrl+n", "app.next", "Next phase", show=False, priority=True),
        Binding("c", "focus_choices", "Choose", show=False),
        Binding("t", "focus_talk", "Write a message"),
        Binding("escape", "leave_field", "Leave the field", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Horizontal(id="body"):
            with ContentSwitcher(initial="lobby", id="phase"):
                yield VerticalScroll(Static(id="lobby-text"), id="lobby")
                yield VerticalScroll(Static(id="brief-text"), id="brief")
                yield VerticalScroll(Static(id="talk-text"), id="talk")
                yield ChoosePane(id="choose")
                yield VerticalScroll(Static(id="reveal-metrics"), Static(id="reveal-changes"), id="reveal")
                yield TimeoutPane(id="timeout")
                yield VerticalScroll(Static(id="debrief-text"), id="debrief")
            yield Conversation(id="conversation")
        yield Static("", id="hint")
        yield Footer()

    def action_focus_choices(self) -> None:
        self.query_one("#options", OptionList).focus()

    def action_focus_talk(self) -> None:
        self.query_one("#say", Input).focus()

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def show(self, view: dict[str, Any], you: dict[str, Any]) -> None:
        phase = view["session"]["phase"]
        pane = {"resolve": "reveal", "ended": "debrief"}.get(phase, phase)
        switcher = self.query_one("#phase", ContentSwitcher)
        changed = switcher.current != pane
        switcher.current = pane
        self.query_one(StatusBar).view = view
        self.query_one("#conversation", Conversation).display = phase not in ("debrief", "ended")
        self.query_one("#conversation", Conversation).view = view
        hint = PHASE_HINTS.get(phase, "")
        if getattr(self.app, "demo", False) and phase in ("brief", "talk", "reveal", "timeout"):
            hint += "  Press n (Ctrl+N while typing) when you are ready to go on."
        self.query_one("#hint", Static).update(Text(hint, style="italic"))
        card = view.get("card")
        group_name = view["group_name"]
        if pane == "lobby":
            roster = view["roster"]
            lines = [
                Text.assemble(("Welcome, ", "bold"), literal(you.get("name", ""), "bold"), ("!", "bold")),
                Text.assemble(
                    "You play ", literal(group_name, "bold"), f" in organisation {view['org'] + 1} of {view['session']['orgs']}."
                ),
                prose(view["brief"], "italic"),
                Text(""),
                Text("Who is here in your organisation:", style="bold"),
            ]
            for g, names in roster.items():
                lines.append(Text.assemble(literal(f"  {view['groups'][g]}: ", "bold"), literal(", ".join(names) or "(bots will play)")))
            self.query_one("#lobby-text", Static).update(RichGroup(*lines))
        elif pane in ("brief", "talk"):
            parts = [Text.assemble(("Your group: ", "bold"), literal(group_name)), prose(view["brief"], "italic"), Text("")]
            if card:
                parts += [literal(card["title"], "bold underline")] + [literal(t) for t in card["text"]]
                if card["options"]:
                    parts += [Text(""), Text("Your options this round:", style="bold")]
                    parts += [Text.assemble("  • ", literal(o["label"])) for o in card["options"]]
            if view.get("changes"):
                parts += [Text(""), Text("Last round, as far as you can see:", style="bold"), metrics_table(view)]
            self.query_one(f"#{pane}-text", Static).update(RichGroup(*parts))
        elif pane == "choose":
            chooser = self.query_one(ChoosePane)
            chooser.view = view
            chooser.choice = you.get("choice")
            if changed:
                self.query_one("#options", OptionList).focus()
        elif pane == "reveal":
            self.query_one("#reveal-metrics", Static).update(RichGroup(Text("What you can see now", style="bold"), metrics_table(view)))
            self.query_one("#reveal-changes", Static).update(RichGroup(Text("\nWhat changed, and why", style="bold"), changes_list(view)))
        elif pane == "timeout":
            timeout = self.query_one(TimeoutPane)
            timeout.view = view
            self.call_after_refresh(timeout.show_answers, you.get("answers", {}))
        elif pane == "debrief" and view.get("debrief"):
            self.query_one("#debrief-text", Static).update(
                RichGroup(Text("The whole system", style="bold"), debrief_renderable(view["debrief"]))
            )


# --- the app -------------------------------------------------------------------------------


class ParticipantApp(App[None]):
    """The participant's terminal app."""

    TITLE = "Crossroads"
    CSS_PATH = "participant.tcss"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help", show=False),
    ]

    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)
    you: reactive[dict[str, Any]] = reactive(dict, always_update=True)

    def __init__(
        self, url: str = "", code: str = "", name: str = "", *, store: SeatStore | None = None, token: str = "", demo: Any = None
    ) -> None:
        super().__init__()
        self.store = store or SeatStore()
        last_url, last_name = self.store.last()
        self.url, self.code, self.player_name = url or last_url, code, name or last_name
        self.token = token
        self.demo = demo
        self.link: Link | None = None
        self.messages: list[dict[str, Any]] = []
        # a choice or answer made while the link is down is kept and sent on reconnect
        self.unsent: dict[str, dict[str, Any]] = {}
        self.connection_log: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        if self.demo is not None:
            from game.deckfiles import load_deck, resolve_deck

            deck = load_deck(resolve_deck(self.demo.deck))
            if getattr(self.demo, "group", ""):
                self.push_screen(PlayScreen())
                self.start_demo(self.demo.group, deck.default_pattern)
            else:
                self.push_screen(DemoStartScreen(deck))
            if hasattr(self.demo, "reload"):
                self.set_interval(1.0, self.check_reload)
            return
        seat = self.store.seat(self.url) if self.url else None
        if self.token:
            self.play(self.url, self.token)
        elif seat and (not self.code or seat.get("code", "").upper() == self.code.upper()):
            self.play(self.url, seat["token"])
        else:
            self.push_screen(JoinScreen(self.url, self.code, self.player_name))

    def play(self, url: str, token: str) -> None:
        """Open the seat connection and show the play screen."""
        self.url, self.token = url, token
        if not isinstance(self.screen, PlayScreen):
            if isinstance(self.screen, JoinScreen | DemoStartScreen):
                self.switch_screen(PlayScreen())
            else:
                self.push_screen(PlayScreen())
        self.run_link(url, token)

    @work(exclusive=True, group="link")
    async def run_link(self, url: str, token: str) -> None:
        self.link = Link(
            url,
            "/v1/seat",
            token=token,
            on_message=lambda m: self.post_message(ServerMessage(m)),
            on_state=lambda s, r: self.post_message(ConnectionChanged(s, r)),
        )
        await self.link.run()

    def on_server_message(self, event: ServerMessage) -> None:
        message = event.message
        kind = message.get("type")
        if kind == "view":
            self.view = message["view"]
            self.messages = list(self.view.get("messages", []))
            if isinstance(self.screen, PlayScreen):
                self.screen.query_one(Conversation).show_history(self.messages, self.view["groups"])
        elif kind == "you" or (kind == "ack" and "you" in message):
            self.you = message["you"]
        elif kind == "clock" and self.view:
            self.view["session"].update(message["session"])
            self.view = self.view
        elif kind == "progress" and self.view:
            self.view["progress"] = {"chosen": message["chosen"], "of": message["of"]}
        elif kind == "message" and self.view and isinstance(self.screen, PlayScreen):
            self.messages.append(message["message"])
            self.screen.query_one(Conversation).add(message["message"], self.view["groups"])

    def on_connection_changed(self, event: ConnectionChanged) -> None:
        self.connection_log.append((event.state, event.reason))
        if event.state == "connected" and self.unsent:
            waiting, self.unsent = self.unsent, {}
            for message in waiting.values():
                self.request_in_background(message)
        if isinstance(self.screen, PlayScreen):
            self.screen.query_one(StatusBar).connection = (event.state, event.reason)
        if event.state == "reconnecting":
            self.notify("Connection lost; reconnecting by itself…", severity="warning", timeout=3)
        elif event.state == "connected" and self.view:
            self.notify("Connected again.", timeout=2)
        elif event.state == "closed" and event.reason:
            if "token" in event.reason and self.demo is None:
                self.store.forget(self.url)
                self.switch_screen(JoinScreen(self.url, self.code, self.player_name, notice=event.reason))
            else:
                self.notify(event.reason, severity="error", timeout=10)

    def _refresh(self) -> None:
        if self.view and isinstance(self.screen, PlayScreen):
            self.screen.show(self.view, self.you)

    def watch_view(self) -> None:
        self._refresh()
        self.refresh_bindings()

    def watch_you(self) -> None:
        self._refresh()

    async def _send(self, message: dict[str, Any]) -> dict[str, Any] | None:
        if self.link is None:
            return None
        try:
            return await self.link.request(message)
        except Refused as exc:
            self.notify(exc.message, severity="error", timeout=5)
        except (NotConnected, TimeoutError):
            if message["type"] in ("choose", "answer"):
                key = message["type"] + str(message.get("prompt", ""))
                self.unsent[key] = message
                self.notify("Not connected right now; it will be sent as soon as the connection is back.", severity="warning")
            else:
                self.notify("Not connected right now; try again in a moment.", severity="warning")
        return None

    # Requests run in workers: a message handler that awaited the server's answer would hold
    # up every key press and view update behind it while the answer is on its way.

    @on(Chosen)
    def choose(self, event: Chosen) -> None:
        self.request_in_background({"type": "choose", "round": event.round, "option": event.option})

    @on(Said)
    def say(self, event: Said) -> None:
        self.request_in_background({"type": "say", "to": event.to, "text": event.text})

    @on(Answered)
    def answer(self, event: Answered) -> None:
        self.request_in_background({"type": "answer", "prompt": event.prompt, "text": event.text}, done="Answer saved.")

    @work(group="requests")
    async def request_in_background(self, message: dict[str, Any], done: str = "") -> None:
        if await self._send(message) and done:
            self.notify(done, timeout=2)

    @work(exclusive=True, group="demo")
    async def start_demo(self, group: str, pattern: str) -> None:
        url, token = await self.demo.start(group, pattern)
        self.play(url, token)
        await self.demo.begin()

    async def check_reload(self) -> None:
        """Playtest: reload the deck when its file is saved."""
        if not self.demo.changed() or not self.demo.server.hub:
            return
        restarted = await self.demo.reload()
        if restarted is None:
            if isinstance(self.screen, DeckProblemsScreen):
                self.pop_screen()
            self.push_screen(DeckProblemsScreen(self.demo.problems))
            return
        if isinstance(self.screen, DeckProblemsScreen):
            self.pop_screen()
        self.play(*restarted)
        self.notify(f"Deck reloaded; playing from round {self.demo.from_round}.", timeout=4)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next":
            phase = self.view.get("session", {}).get("phase") if self.view else None
            return self.demo is not None and phase in ("lobby", "brief", "talk", "reveal", "timeout")
        return True

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_next(self) -> None:
        """Demo only: move on (the demo plays the facilitator)."""
        if self.demo is not None:
            await self.demo.next_phase()

    async def action_quit(self) -> None:
        if self.link is not None:
            await self.link.stop()
        if self.demo is not None:
            await self.demo.close()
        self.exit()
