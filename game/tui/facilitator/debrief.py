"""A finished session's debrief, reopened read-only, and the export the console and it write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

from game.tui.facilitator.screens import DebriefScreen
from game.tui.shared.help import HelpScreen

HELP = Path(__file__).resolve().parent / "help.md"


def export_archive(archive: dict[str, Any], code: str, where: Path | None = None) -> Path:
    """Write the export of ``archive`` to WHERE/crossroads-CODE (the current folder by default)."""
    from game.report import report_files, write_report

    target = (where or Path.cwd()) / f"crossroads-{code}"
    write_report(target, report_files(archive, code=code))
    return target


class DebriefApp(App[None]):
    """A finished session's debrief, read back from its journal: read-only (``crossroads debrief``)."""

    TITLE = "Crossroads - debrief"
    CSS_PATH = "facilitator.tcss"
    BINDINGS = [Binding("ctrl+q,q", "quit", "Quit", priority=True)]

    def __init__(self, debrief: dict[str, Any], archive: dict[str, Any], code: str, export_dir: Path | None = None) -> None:
        super().__init__()
        self.debrief, self.archive, self.code, self.export_dir = debrief, archive, code, export_dir

    def on_mount(self) -> None:
        self.push_screen(DebriefScreen(self.debrief, read_only=True))

    def action_export(self) -> None:
        target = export_archive(self.archive, self.code, self.export_dir)
        self.notify(f"Exported to {target}", timeout=8)

    def action_show_answers(self) -> None:
        self.notify("This debrief is read-only: the answers shown were chosen during the session.")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(HELP))
