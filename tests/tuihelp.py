"""Helpers for driving Textual apps with Pilot against a real server."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

from rich.console import Console
from textual.widget import Widget
from textual.widgets import Static


async def wait_for(
    pilot, predicate: Callable[[], object], timeout: float = 8.0, what: str = "", detail: Callable[[], object] | None = None
) -> None:
    """Let the app run until ``predicate()`` holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - widgets may not exist yet
            pass
        if loop.time() > end:
            extra = f"; {detail()}" if detail else ""
            raise AssertionError(f"timed out waiting for {what or predicate}{extra}")
        await pilot.pause(0.05)


def plain(renderable, width: int = 120) -> str:
    """A renderable (Rich or Textual content) as plain text."""
    if isinstance(renderable, str):
        return renderable
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def widget_text(widget, width: int = 120) -> str:
    """What a Static shows, as plain text."""
    return plain(widget.content, width)


def screen_text(app, width: int = 120) -> str:
    """The text of every Static (and Label) on the app's screen that is on show, one after
    another: widgets inside a hidden container (a pane the ContentSwitcher is not showing,
    say) are left out."""
    parts = []
    for widget in app.screen.query(Static):
        if all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget)):
            parts.append(plain(widget.content, width))
    return "\n".join(parts)
