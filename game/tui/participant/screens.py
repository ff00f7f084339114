"""The participant's screens: joining, the demo's start screen, the play screen whose main
pane follows the phase, and a playtest's deck problems."""

from __future__ import annotations

from typing import Any

from rich.console import Group as RichGroup
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Button, ContentSwitcher, Footer, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from game.client.link import NotConnected, RequestRefused, join_session, normalise_url
from game.core.deck import Deck
from game.tui.participant.lines import HINTS, lower_name, my_requests, request_lines, reveal_news, structure_now
from game.tui.participant.messages import Asked, GroupPicked, Joined
from game.tui.participant.panes import ChoosePane, Conversation, TimeoutPane
from game.tui.participant.status import PhaseBar
from game.tui.shared.story import MetricChart
from game.tui.shared.text import literal, prose
from game.tui.shared.widgets import changes_list, debrief_renderable, metrics_table


class JoinScreen(Screen[None]):
    """Server address, join code and name; remembers the last server and name."""

    BINDINGS = [Binding("f1,question_mark", "app.help", "Help", show=True)]

    def __init__(self, url: str = "", code: str = "", name: str = "", notice: str = "", device: str = "", join_now: bool = False) -> None:
        super().__init__()
        self.join_now = join_now
        self.url, self.code, self.player_name, self.notice = url, code, name, notice
        self.device = device  # this machine's id, sent with the join

    def compose(self) -> ComposeResult:
        with Vertical(id="join-box"):
            yield Static(Text("Crossroads", style="bold"), id="join-title")
            yield Static("Join the session your facilitator is running.", id="join-lead")
            # the server's answer stands above the fields, where a 24-row terminal still shows it
            yield Static(literal(self.notice), id="join-error", classes="" if self.notice else "empty")
            yield Label("Server address (from the facilitator's screen)")
            yield Input(self.url, placeholder="192.168.1.20:8765", id="url")
            yield Label("Join code")
            yield Input(self.code, placeholder="6 letters and digits", id="code", max_length=12)
            yield Label("Your name, as others will see it")
            yield Input(self.player_name, placeholder="Ana", id="name", max_length=24)
            yield Button("Join", id="join", variant="primary")
        yield Footer()

    def say(self, text: Text) -> None:
        line = self.query_one("#join-error", Static)
        line.update(text)
        line.set_class(not text.plain, "empty")

    def on_mount(self) -> None:
        for field in ("#url", "#code", "#name"):
            if not self.query_one(field, Input).value:
                self.query_one(field, Input).focus()
                break
        else:
            self.query_one("#join", Button).focus()
            if self.join_now:
                self.submit()

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
            self.say(literal(problem, "bold red"))
            return
        self.say(Text("Joining…", style="yellow"))
        self.query_one("#join", Button).disabled = True
        self.join(url, code, name)

    @work(exclusive=True)
    async def join(self, url: str, code: str, name: str) -> None:
        try:
            joined = await join_session(url, code, name, device=self.device)
        except (RequestRefused, NotConnected) as exc:
            message = exc.message if isinstance(exc, RequestRefused) else str(exc)
            self.say(literal(message, "bold red"))
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


class RequestPicker(ModalScreen[tuple[str, str] | None]):
    """Ask a group the structure lets this one reach for one of its options this round, or
    withdraw a request already made."""

    BINDINGS = [Binding("escape", "dismiss_picker", "Close")]

    def __init__(self, view: dict[str, Any], me: str) -> None:
        super().__init__()
        self.view, self.me = view, me

    def compose(self) -> ComposeResult:
        groups = self.view["groups"]
        mine = my_requests(self.view, self.me)
        options = OptionList(id="ask-options")
        for target, offered in self.view.get("askable", {}).items():
            name = literal(lower_name(groups.get(target, target)), "bold")
            for option in offered:
                asked = target in mine and mine[target]["option"] == option["id"]
                options.add_option(
                    Option(
                        Text.assemble("Ask ", name, " to: ", literal(option["label"]), ("  ✔ asked" if asked else "", "green")),
                        id=f"{target}|{option['id']}",
                    )
                )
        for target, request in mine.items():
            options.add_option(
                Option(
                    Text.assemble(
                        ("Withdraw", "bold red"),
                        " your request to ",
                        literal(lower_name(groups.get(target, target))),
                        ": ",
                        literal(request["label"], "dim"),
                    ),
                    id=f"{target}|",
                )
            )
        with Vertical(id="ask-box"):
            yield Static(Text("Ask another group for one of its options this round", style="bold"))
            yield Static(Text("Whether they do it is their choice; how much they listen to you shows on the right.", style="dim"))
            yield options
            yield Static(Text("↑/↓ and Enter to ask · Esc to close · one request to each group, a new one replaces it", style="dim italic"))

    def on_mount(self) -> None:
        options = self.query_one("#ask-options", OptionList)
        options.focus()
        if options.option_count:
            options.highlighted = 0

    @on(OptionList.OptionSelected, "#ask-options")
    def picked(self, event: OptionList.OptionSelected) -> None:
        target, _, option = (event.option.id or "|").partition("|")
        self.dismiss((target, option))

    def action_dismiss_picker(self) -> None:
        self.dismiss(None)


# Keys that type text when a text box has focus: while one has, none of them is a hotkey
TYPING = (Input, TextArea)


class PlayScreen(Screen[None]):
    """The phase bar, the pane of the current phase beside the conversation, and a hint.

    Typing never fires a hotkey: while a text box has focus every letter key is text (and the
    footer shows no letter keys), and a letter typed with no box focused that is no active key
    opens the message line with it. Moving on in the demo is Ctrl+N, never a letter."""

    BINDINGS = [
        Binding("question_mark", "key_help", "Help"),
        Binding("ctrl+n", "app.next", "Next phase", priority=True),
        Binding("t", "focus_talk", "Write"),
        Binding("r", "ask", "Ask a group"),
        Binding("escape", "leave_field", "Leave the box"),
    ]
    LETTER_ACTIONS = frozenset({"key_help", "focus_talk", "ask"})

    def __init__(self, can_advance: bool = False) -> None:
        super().__init__()
        self.can_advance = can_advance  # the player moves the game on (demo and playtest)
        self.view: dict[str, Any] = {}
        self.you: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield PhaseBar()
        with Horizontal(id="body"):
            with ContentSwitcher(initial="lobby", id="phase"):
                yield VerticalScroll(Static(id="lobby-text"), id="lobby")
                yield VerticalScroll(Static(id="brief-text"), id="brief")
                yield VerticalScroll(Static(id="talk-text"), id="talk")
                yield ChoosePane(id="choose")
                yield VerticalScroll(
                    Static(id="reveal-metrics"),
                    Static(id="reveal-news"),
                    Static(id="reveal-changes"),
                    Static(id="reveal-structure"),
                    id="reveal",
                )
                yield TimeoutPane(id="timeout")
                yield VerticalScroll(Static(id="debrief-text"), Vertical(id="debrief-charts"), id="debrief")
            yield Conversation(id="conversation")
        yield Static("", id="hint")
        yield Footer()

    @property
    def phase(self) -> str:
        return self.view.get("session", {}).get("phase", "") if self.view else ""

    def typing(self) -> bool:
        return isinstance(self.focused, TYPING)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.LETTER_ACTIONS and self.typing():
            return False
        if action == "focus_talk":
            return self.query_one(Conversation).display
        if action == "ask":
            return self.phase in ("talk", "choose") and bool(self.view.get("askable"))
        if action == "leave_field":
            return self.typing()
        return True

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.refresh_bindings()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.refresh_bindings()

    def on_key(self, event: events.Key) -> None:
        """A letter typed while no text box has focus, that is no active key, starts a message.

        A text box keeps every letter it is sent, so a letter only reaches the screen with a
        box focused when it was on its way before the box took focus (a fast typist's next
        keys): it goes into the box too, never to a hotkey."""
        if not event.is_printable or not event.character:
            return
        focused = self.focused
        if isinstance(focused, Input):
            focused.insert_text_at_cursor(event.character)
        elif isinstance(focused, TextArea):
            focused.insert(event.character)
        else:
            binding = self.app.active_bindings.get(event.key)
            if binding is not None and binding.enabled:
                return
            conversation = self.query_one(Conversation)
            if not conversation.display:
                return
            say = conversation.query_one("#say", Input)
            self.set_focus(say)  # at once, so that the next keys find it
            say.insert_text_at_cursor(event.character)
        event.stop()
        event.prevent_default()

    def action_key_help(self) -> None:
        self.app.action_help()

    def action_focus_talk(self) -> None:
        self.set_focus(self.query_one("#say", Input))

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def action_ask(self) -> None:
        round_number = self.view["session"]["round"]

        def asked(picked: tuple[str, str] | None) -> None:
            if picked is not None:
                self.post_message(Asked(picked[0], picked[1], round_number))

        self.app.push_screen(RequestPicker(self.view, self.you.get("name", "")), asked)

    def show(self, view: dict[str, Any], you: dict[str, Any]) -> None:
        self.view, self.you = view, you
        phase = view["session"]["phase"]
        pane = {"resolve": "reveal", "ended": "debrief"}.get(phase, phase)
        switcher = self.query_one("#phase", ContentSwitcher)
        changed = switcher.current != pane
        switcher.current = pane
        self.query_one(PhaseBar).view = view
        conversation = self.query_one("#conversation", Conversation)
        conversation.display = phase not in ("debrief", "ended")
        if changed and pane == "debrief":
            self.query_one("#debrief").focus()  # the arrows and PgUp/PgDn scroll it at once
        conversation.view = view
        hint = HINTS.get(phase, "")
        if self.can_advance and phase in ("lobby", "brief", "talk", "reveal", "timeout"):
            hint += "  Ctrl+N: next phase."
        self.query_one("#hint", Static).update(Text(hint, style="italic"))
        card = view.get("card")
        group_name = view["group_name"]
        me = you.get("name", "")
        if pane == "lobby":
            roster = view["roster"]
            lines = [
                Text.assemble(("Welcome, ", "bold"), literal(me, "bold"), ("!", "bold")),
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
            requests = request_lines(view, me)
            if requests:
                parts += [Text(""), Text("Requests", style="bold"), *requests]
            if pane == "talk" and view.get("askable"):
                reach = " or ".join(lower_name(view["groups"][g]) for g in view["askable"])
                parts += [Text(""), Text.assemble(("Press r", "bold"), " to ask ", literal(reach), " for one of their options.")]
            if view.get("changes"):
                parts += [Text(""), Text("Last round, as far as you can see:", style="bold"), metrics_table(view)]
            self.query_one(f"#{pane}-text", Static).update(RichGroup(*parts))
        elif pane == "choose":
            chooser = self.query_one(ChoosePane)
            chooser.me = me
            chooser.view = view
            chooser.choice = you.get("choice")
            # the options take focus, unless the player is halfway through a message
            focused = self.focused
            if changed and not (isinstance(focused, Input) and focused.value):
                self.set_focus(self.query_one("#options", OptionList))
        elif pane == "reveal":
            self.query_one("#reveal-metrics", Static).update(RichGroup(Text("What you can see now", style="bold"), metrics_table(view)))
            self.query_one("#reveal-changes", Static).update(RichGroup(Text("\nWhat changed, and why", style="bold"), changes_list(view)))
            self.query_one("#reveal-news", Static).update(reveal_news(view))
            self.query_one("#reveal-structure", Static).update(structure_now(view))
        elif pane == "timeout":
            timeout = self.query_one(TimeoutPane)
            timeout.view = view
            self.call_after_refresh(timeout.show_answers, you.get("answers", {}))
        elif pane == "debrief" and view.get("debrief"):
            self.query_one("#debrief-text", Static).update(
                RichGroup(Text("The whole system", style="bold"), debrief_renderable(view["debrief"]))
            )
            self.show_charts(view["debrief"].get("story"))
        if changed:
            self.call_after_refresh(self.drop_hidden_focus)
        self.refresh_bindings()

    def show_charts(self, story: dict[str, Any] | None) -> None:
        """Each metric over the rounds, the organisations side by side, drawn once the story is told."""
        charts = self.query_one("#debrief-charts", Vertical)
        if not story or charts.children:
            return
        charts.mount_all(MetricChart(story, metric, classes="debrief-chart") for metric in story["metrics"])

    def drop_hidden_focus(self) -> None:
        """A pane that is no longer on show keeps no focus (its keys would act unseen)."""
        focused = self.focused
        if focused is not None and not all(node.display for node in focused.ancestors_with_self if isinstance(node, Widget)):
            self.set_focus(None)
