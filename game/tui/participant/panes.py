"""The panes of the play screen that take input: the conversation, the options to choose
from, and the time-out form. Each posts a message when the player acts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, OptionList, RichLog, Static, TextArea
from textual.widgets.option_list import Option

from game.tui.participant.lines import asked_for, capitalised, lower_name, request_lines, structure_summary
from game.tui.participant.messages import Answered, Chosen, Said
from game.tui.shared.text import SHORT_GROUPS, literal

SAY_PHASES = ("lobby", "talk", "choose", "debrief")  # when the server takes messages from participants


class ChannelPicker(Widget, can_focus=True):
    """Whom the next message goes to, on one line that never wraps: ← and → move along the
    groups this one can reach and stop at either end, so a message never lands on a group
    the player did not see picked."""

    BINDINGS = [
        Binding("left", "move(-1)", "Previous group", show=False),
        Binding("right", "move(1)", "Next group", show=False),
    ]
    targets: reactive[list[str]] = reactive(list, always_update=True)
    value: reactive[str] = reactive("")

    class Changed(Message):
        """The picked group changed."""

        def __init__(self, value: str) -> None:
            super().__init__()
            self.value = value

    def labels(self) -> list[str]:
        """The groups' labels, as long as the line allows: every group stays in view."""
        own = self.targets[0] if self.targets else ""
        width = self.size.width or 1000
        for own_label, cut in (("Own group", 20), ("Own", 20), ("Own", 4)):
            labels = [own_label if g == own else SHORT_GROUPS.get(g, g)[:cut] for g in self.targets]
            if 4 + sum(len(label) + 2 for label in labels) <= width:
                break
        return labels

    def render(self) -> Text:
        text = Text("To: ", style="bold", no_wrap=True, overflow="ellipsis")
        for group, label in zip(self.targets, self.labels(), strict=True):
            text.append(f" {label} ", style="bold reverse" if group == self.value else "dim")
        if self.has_focus and text.cell_len + 5 <= self.size.width:
            text.append("  ←/→", style="dim italic")
        return text

    def watch_targets(self, targets: list[str]) -> None:
        if self.value not in targets:
            self.value = targets[0] if targets else ""

    def watch_value(self, value: str) -> None:
        self.post_message(self.Changed(value))

    def action_move(self, step: int) -> None:
        if self.value in self.targets:
            index = min(max(self.targets.index(self.value) + step, 0), len(self.targets) - 1)
            self.value = self.targets[index]

    def on_click(self, event: events.Click) -> None:
        # the label under the pointer: "To: " is four cells, each label has a space either side
        x = 4
        for group, label in zip(self.targets, self.labels(), strict=True):
            if x <= event.x < x + len(label) + 2:
                self.value = group
                return
            x += len(label) + 2

    def _on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self.refresh()


class Conversation(Vertical):
    """The structure the group talks in, what arrives, whom to write to and a line to write on."""

    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)

    def compose(self) -> ComposeResult:
        yield Static("", id="channels")
        yield RichLog(id="messages", wrap=True, markup=False, highlight=False, min_width=20)
        yield ChannelPicker(id="to")
        yield Input(placeholder="", id="say", max_length=500, select_on_focus=False)

    def watch_view(self, view: dict[str, Any]) -> None:
        if not view:
            return
        self.query_one("#channels", Static).update(structure_summary(view, compact=True))
        self.query_one(ChannelPicker).targets = [view["group"], *view["pattern"]["talk_to"]]
        self.refresh_placeholder()

    def on_key(self, event: events.Key) -> None:
        """↑ and ↓ in the message box change whom it goes to, without leaving the box."""
        if event.key in ("up", "down") and self.query_one("#say", Input).has_focus:
            self.query_one(ChannelPicker).action_move(-1 if event.key == "up" else 1)
            event.stop()
            event.prevent_default()

    @on(ChannelPicker.Changed)
    def refresh_placeholder(self) -> None:
        if not self.view:
            return
        groups, own = self.view["groups"], self.view["group"]
        to = self.query_one(ChannelPicker).value or own
        who = "your group" if to == own else lower_name(groups.get(to, to))
        say = self.query_one("#say", Input)
        short = "your group" if to == own else SHORT_GROUPS.get(to, to)
        if self.view["session"]["phase"] in SAY_PHASES:
            candidates = [
                f"Message {who} (Enter sends, ↑↓ whom)",
                f"Message {short} (Enter sends, ↑↓ whom)",
                f"{capitalised(short)}: Enter sends, ↑↓ whom",
                f"{capitalised(short)} (↑↓ whom)",
                f"{capitalised(short)}: Enter sends",
            ]
        else:
            candidates = [f"Draft for {who} (send in talk)", f"Draft for {short} (send in talk)", f"{capitalised(short)}: send in talk"]
        room = (self.size.width or 1000) - 6  # the panel's padding, the box's border and padding
        say.placeholder = next((c for c in candidates if len(c) <= room), candidates[-1])

    def on_resize(self) -> None:
        self.refresh_placeholder()

    def show_history(self, messages: list[dict[str, Any]], groups: dict[str, str], own_seat: str | None = None) -> None:
        log = self.query_one("#messages", RichLog)
        log.clear()
        for message in messages:
            self.add(message, groups, own_seat)

    def add(self, message: dict[str, Any], groups: dict[str, str], own_seat: str | None = None) -> None:
        route = f" ({SHORT_GROUPS.get(message['from'], message['from'])} → {SHORT_GROUPS.get(message['to'], message['to'])})"
        if "request" not in message:
            who = Text.assemble(literal(message["name"], "bold"), (route, "dim"), ": ")
            self.query_one("#messages", RichLog).write(Text.assemble(who, literal(message["text"])))
            return
        # a request: its text is empty; say who asked whom for what
        mine = bool(own_seat) and message.get("seat") == own_seat
        name = "You" if mine else message.get("name") or capitalised(lower_name(groups.get(message["from"], message["from"])))
        verb = "asks" if message.get("name") and not mine else "ask"
        asked = "you" if self.view and message["to"] == self.view.get("group") else lower_name(groups.get(message["to"], message["to"]))
        if message["request"]:
            body = Text.assemble(f"{verb} ", literal(asked), " to: ", literal(message.get("label", ""), "bold"))
        else:
            body = Text.assemble(
                "withdrew the request to ", literal(asked), *((": ", literal(message["label"])) if message.get("label") else ())
            )
        body.stylize("yellow")
        self.query_one("#messages", RichLog).write(Text.assemble(("⚑ ", "bold yellow"), literal(name, "bold"), (route, "dim"), " ", body))

    @on(Input.Submitted, "#say")
    def send(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.view and self.view["session"]["phase"] not in SAY_PHASES:
            self.notify("Messages go once the talk phase opens; your text stays in the box.", timeout=4)
            return
        to = self.query_one(ChannelPicker).value or self.view.get("group", "")
        self.post_message(Said(str(to), text))
        event.input.value = ""


class ChoosePane(VerticalScroll):
    """The card's options, with what other groups ask of this one beside them."""

    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)
    choice: reactive[str | None] = reactive(None)
    me: reactive[str] = reactive("")

    def compose(self) -> ComposeResult:
        yield Static("", id="choose-card")
        yield Static("", id="choose-requests")
        yield OptionList(id="options")
        yield Static("", id="confirmation")
        yield Static("", id="choose-text")

    def watch_view(self, view: dict[str, Any]) -> None:
        card = view.get("card")
        options = self.query_one("#options", OptionList)
        if not card:
            return
        self.query_one("#choose-card", Static).update(literal(card["title"], "bold"))
        self.query_one("#choose-text", Static).update(Text.assemble(("\nThe situation: ", "bold"), literal(" ".join(card["text"]), "dim")))
        requests = request_lines(view, self.me)
        self.query_one("#choose-requests", Static).update(Text("\n").join(requests) if requests else "")
        self.query_one("#choose-requests", Static).display = bool(requests)
        asked = asked_for(view)
        shape = ([o["id"] for o in card["options"]], asked)
        if shape != getattr(self, "_shape", None):
            self._shape = shape
            highlighted = options.highlighted
            options.clear_options()
            for o in card["options"]:
                prompt = Text.assemble(
                    literal(o["label"], "bold"),
                    (" (stands if you do not choose)", "dim italic") if o["default"] else "",
                    *(("\n", ("⚑ asked by ", "yellow"), literal(", ".join(asked[o["id"]]), "yellow")) if o["id"] in asked else ()),
                    *(("\n", literal(o["description"], "dim")) if o["description"] else ()),
                )
                options.add_option(Option(prompt, id=o["id"]))
            if card["options"]:
                options.highlighted = highlighted if highlighted is not None and highlighted < len(card["options"]) else 0
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
    """The time-out as one form: every answer is a draft kept here and sent by itself (half a
    second after typing stops, on leaving the box, or with Ctrl+S), so nothing typed is lost
    when the facilitator moves on."""

    BINDINGS = [Binding("ctrl+s", "send_all", "Send answers", priority=True)]
    settle = 0.5  # seconds after the last keystroke before a draft is sent
    steady = 2.0  # seconds of steady typing after which the draft is sent all the same
    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)
    saved: reactive[dict[str, str]] = reactive(dict, always_update=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.posted: dict[int, str] = {}  # what was last handed to the app for each prompt
        self.dirty: dict[int, tuple[float, float]] = {}  # prompt -> (first, last) unsent keystroke
        self._prompts: list[str] | None = None
        # one rebuild at a time: the old boxes are gone before new ones with the same ids come
        # (a move to another group mid time-out brings new prompts while the old form is removed)
        self._rebuilding = asyncio.Lock()

    def on_mount(self) -> None:
        self.set_interval(0.25, self.send_settled)

    async def watch_view(self, view: dict[str, Any]) -> None:
        async with self._rebuilding:
            prompts = self.view.get("prompts", [])  # the newest view, if another came meanwhile
            if prompts == self._prompts:
                return
            self.report_unsaved()
            self._prompts = prompts
            self.posted, self.dirty = {}, {}
            await self.remove_children()
            if not prompts:
                await self.mount(Static("No prompts for your group this time."))
                return
            intro = "Time-out: take a few minutes to reflect. Your answers are sent as you type."
            widgets: list[Any] = [Static(Text(intro, style="bold"))]
            for i, prompt in enumerate(prompts):
                widgets += [
                    Static(literal(f"{i + 1}. {prompt}"), classes="prompt"),  # a Static wraps a long question
                    TextArea(id=f"answer-{i}", classes="answer"),
                    Static("", id=f"state-{i}", classes="state"),
                ]
            await self.mount_all(widgets)
            self.call_after_refresh(self.focus_first)

    def report_unsaved(self) -> None:
        """The time-out ended with a draft the server does not have yet: send it now (the server
        keeps it for the time-out that has just ended), and say so."""
        for area in self.query(TextArea).results(TextArea):
            index = (area.id or "answer-0").split("-")[1]
            if area.text.strip() and self.saved.get(index) != area.text:
                self.post_message(Answered(int(index), area.text))
                self.notify("The time-out ended as you typed; your answer was sent all the same.", timeout=8)

    def focus_first(self) -> None:
        for area in self.query(TextArea).results(TextArea):
            area.focus()
            return

    def show_answers(self, answers: dict[str, str]) -> None:
        for key, text in answers.items():
            for area in self.query(f"#answer-{key}").results(TextArea):
                if not area.text:
                    area.text = text
                    self.posted[int(key)] = text
        self.saved = dict(answers)

    def watch_saved(self) -> None:
        self.refresh_states()

    def refresh_states(self) -> None:
        for area in self.query(TextArea).results(TextArea):
            index = int((area.id or "answer-0").split("-")[1])
            state = next(iter(self.query(f"#state-{index}").results(Static)), None)
            if state is None:  # the form is being built or taken down
                continue
            if not area.text.strip():
                state.update("")
            elif self.saved.get(str(index)) == area.text:
                state.update(Text("✔ saved", style="green"))
            else:
                state.update(Text("… not sent yet", style="yellow"))

    @on(TextArea.Changed)
    def typed(self, event: TextArea.Changed) -> None:
        index = int((event.text_area.id or "answer-0").split("-")[1])
        now = time.monotonic()
        self.dirty[index] = (self.dirty.get(index, (now, now))[0], now)
        self.refresh_states()

    def _send(self, index: int) -> None:
        area = self.query_one(f"#answer-{index}", TextArea)
        if area.text != self.posted.get(index, "") and (area.text.strip() or index in self.posted):
            self.posted[index] = area.text
            self.post_message(Answered(index, area.text))
        self.dirty.pop(index, None)

    def send_settled(self) -> None:
        """Send each draft half a second after typing stops, and every two seconds of steady typing."""
        now = time.monotonic()
        for index, (first, last) in list(self.dirty.items()):
            if now - last >= self.settle or now - first >= self.steady:
                self._send(index)

    def action_send_all(self) -> None:
        for area in self.query(TextArea).results(TextArea):
            self._send(int((area.id or "answer-0").split("-")[1]))

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if isinstance(event.widget, TextArea) and event.widget.id:
            self._send(int(event.widget.id.split("-")[1]))
