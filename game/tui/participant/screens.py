"""The participant's screens: joining, the demo's start screen, the play screen whose main
pane follows the phase, and a playtest's deck problems."""

from __future__ import annotations

from typing import Any

from rich.console import Group as RichGroup
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, ContentSwitcher, Footer, Input, Label, OptionList, Select, Static

from game.client.link import NotConnected, RequestRefused, join_session, normalise_url
from game.core.deck import Deck
from game.tui.participant.messages import GroupPicked, Joined
from game.tui.participant.panes import ChoosePane, Conversation, TimeoutPane
from game.tui.shared.text import PHASE_HINTS, literal, prose
from game.tui.shared.widgets import StatusBar, changes_list, debrief_renderable, metrics_table


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
        try:
            joined = await join_session(url, code, name)
        except (RequestRefused, NotConnected) as exc:
            message = exc.message if isinstance(exc, RequestRefused) else str(exc)
            self.query_one("#join-error", Static).update(literal(message, "bold red"))
            self.query_one("#join", Button).disabled = False
            return
        self.post_message(Joined(url, code, name, joined["seat"], joined["token"]))


class DeckProblemsScreen(ModalScreen[None]):
    """A saved deck that does not load: every problem with its location, no crash."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Close")]

    def __init__(self, problems: list[str]) -> None:
        super().__init__()
        self.problems = problems

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="problems-box"):
            yield Static(Text("The saved deck does not load; the game goes on with the last good version.", style="bold red"))
            yield Static(RichGroup(*(literal(p) for p in self.problems)), id="problems")
            yield Static(Text("Fix the file and save again; this closes by itself when it loads.", style="italic"))


class DemoStartScreen(Screen[None]):
    """The demo's first screen: which group to play, under which pattern."""

    BINDINGS = [Binding("f1,question_mark", "app.help", "Help")]

    def __init__(self, deck: Deck) -> None:
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
        self.post_message(GroupPicked(group, pattern))


class PlayScreen(Screen[None]):
    """The status bar, the pane of the current phase beside the conversation, and a hint."""

    BINDINGS = [
        Binding("f1,question_mark", "app.help", "Help"),
        Binding("n", "app.next", "Next phase"),
        Binding("ctrl+n", "app.next", "Next phase", show=False, priority=True),
        Binding("c", "focus_choices", "Choose", show=False),
        Binding("t", "focus_talk", "Write a message"),
        Binding("escape", "leave_field", "Leave the field", show=False),
    ]

    def __init__(self, can_advance: bool = False) -> None:
        super().__init__()
        self.can_advance = can_advance  # the player moves the game on (demo and playtest)

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
        if self.can_advance and phase in ("brief", "talk", "reveal", "timeout"):
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
