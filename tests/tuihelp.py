"""Helpers for driving Textual apps with Pilot against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


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
    from rich.console import Console

    if isinstance(renderable, str):
        return renderable
    console = Console(width=width, record=True, file=open("/dev/null", "w"), color_system=None)  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def widget_text(widget, width: int = 120) -> str:
    """What a Static shows, as plain text."""
    return plain(widget.content, width)


def screen_text(app) -> str:
    """Everything visible on the app's screen, as plain text."""
    from rich.console import Console

    console = Console(width=app.size.width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    for widget in app.screen.query("*"):
        if widget.display and hasattr(widget, "render"):
            try:
                console.print(widget.render())
            except Exception:  # noqa: BLE001
                pass
    return console.export_text()
