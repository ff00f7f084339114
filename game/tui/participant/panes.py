"""The panes of the play screen that take input: the conversation, the options to choose
from, and the time-out prompts. Each posts a message when the player acts."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Button, Input, Label, OptionList, RichLog, Select, Static, TextArea
from textual.widgets.option_list import Option

from game.tui.participant.messages import Answered, Chosen, Said
from game.tui.shared.text import SHORT_GROUPS, literal


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
