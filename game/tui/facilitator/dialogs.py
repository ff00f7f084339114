"""The console's dialogs: pick one of a few choices, or confirm a step that cannot be undone."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, OptionList, SelectionList
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from game.tui.shared.text import literal


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
    """A yes/no question; y or n answers it, Esc says no."""

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


class PickAnswers(ModalScreen[tuple[list[str], bool] | None]):
    """Pick the time-out answers the room sees in the debrief, and whether with names."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, answers: list[dict], shown: set[str], names: bool) -> None:
        super().__init__()
        self.answers, self.shown, self.names = answers, shown, names

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(literal("Answers the room sees (space to tick, Enter to show)", "bold"))
            yield SelectionList[str](
                *[
                    Selection(
                        literal(f"{a.get('name', '')} · {a['group_name']} · org {a['org'] + 1} · round {a['round']}: {a['text']}"),
                        a["key"],
                        a["key"] in self.shown,
                    )
                    for a in self.answers
                ],
                id="answers",
            )
            yield Checkbox("Show the names of who wrote them", self.names, id="names")
            with Horizontal(classes="buttons"):
                yield Button("Show (Enter)", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    @on(Button.Pressed, "#ok")
    def action_ok(self) -> None:
        self.dismiss((list(self.query_one(SelectionList).selected), self.query_one(Checkbox).value))

    def key_enter(self) -> None:
        if not isinstance(self.focused, Button):
            self.action_ok()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
