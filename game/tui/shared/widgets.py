"""Widgets shared by the participant app and the facilitator console."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group as RichGroup
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import ProgressBar, Static

from game.tui.shared.text import LEVER_NAMES, LEVER_STYLES, PHASE_NAMES, literal, signed, spark


class TimerBar(Widget):
    """The phase timer as a progress bar with the time left."""

    DEFAULT_CSS = """
    TimerBar { height: 1; layout: horizontal; width: 1fr; }
    TimerBar ProgressBar { width: 1fr; }
    TimerBar Bar { width: 1fr; }
    TimerBar #left { width: 14; text-align: right; }
    """
    clock: reactive[dict[str, Any]] = reactive(dict, always_update=True)

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=100, show_eta=False, show_percentage=False)
        yield Static("", id="left")

    def on_mount(self) -> None:
        self.set_interval(0.5, self.tick)

    def watch_clock(self) -> None:
        self.tick()

    def tick(self) -> None:
        clock = self.clock or {}
        duration = clock.get("duration") or 0
        if clock.get("paused"):
            remaining = clock.get("remaining")
            label = "paused" if remaining is None else f"paused {fmt_seconds(remaining)}"
        elif clock.get("deadline"):
            remaining = max(0.0, clock["deadline"] - time.time())
            label = f"{fmt_seconds(remaining)} left"
        else:
            remaining, label = None, "no timer"
        progress = self.query_one(ProgressBar)
        if duration and remaining is not None:
            progress.update(total=duration, progress=max(0.0, duration - remaining))
        else:
            progress.update(total=100, progress=0)
        self.query_one("#left", Static).update(label)


def fmt_seconds(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 60}:{seconds % 60:02d}"


class StatusBar(Widget):
    """Always visible: organisation, group, round, phase, timer and connection state."""

    DEFAULT_CSS = """
    StatusBar { height: 2; background: $panel; padding: 0 1; }
    StatusBar #where { height: 1; }
    StatusBar #row { height: 1; }
    StatusBar #connection { width: auto; min-width: 16; text-align: right; }
    """
    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)
    connection: reactive[tuple[str, str]] = reactive(("connecting", ""))

    def compose(self) -> ComposeResult:
        yield Static("", id="where")
        with Horizontal(id="row"):
            yield TimerBar()
            yield Static("", id="connection")

    def watch_view(self, view: dict[str, Any]) -> None:
        if not view:
            return
        session = view["session"]
        where = Text.assemble(
            (f"Organisation {view['org'] + 1}", "bold"),
            "  ·  ",
            literal(view["group_name"], "bold"),
            "  ·  ",
            f"Round {max(session['round'], 1)} of {session['rounds']}" if session["round"] else f"{session['rounds']} rounds",
            "  ·  ",
            (PHASE_NAMES.get(session["phase"], session["phase"]), "bold reverse"),
        )
        self.query_one("#where", Static).update(where)
        self.query_one(TimerBar).clock = session

    def watch_connection(self, value: tuple[str, str]) -> None:
        state, _ = value
        label = {
            "connected": ("● connected", "green"),
            "connecting": ("○ connecting…", "yellow"),
            "reconnecting": ("◌ reconnecting…", "bold yellow"),
            "closed": ("✕ disconnected", "red"),
        }
        text, style = label.get(state, (state, ""))
        self.query_one("#connection", Static).update(Text(text, style=style))


def metrics_table(view: dict[str, Any]) -> Table:
    """The metrics a group may see, with this round's change and the trend."""
    table = Table(expand=True, box=None, header_style="bold", pad_edge=False)
    table.add_column("Metric")
    table.add_column("Now", justify="right")
    table.add_column("Change", justify="right")
    table.add_column("Trend")
    changes: dict[str, float] = {}
    for change in view.get("changes", []):
        changes[change["metric"]] = changes.get(change["metric"], 0.0) + change["delta"]
    for name, metric in view.get("metrics", {}).items():
        delta = changes.get(name, 0.0)
        good = (delta > 0) == (metric.get("better", "higher") == "higher")
        style = "" if abs(delta) < 0.05 else ("green" if good else "red")
        low, high = metric["bounds"]
        table.add_row(
            literal(metric["label"]), f"{metric['value']:.1f}", Text(signed(delta), style=style), spark(metric.get("trend", []), low, high)
        )
    return table


def changes_list(view: dict[str, Any]) -> RichGroup:
    """Each change the group may see, with its lever and explanation."""
    lines = []
    for change in view.get("changes", []):
        lever = change["lever"]
        late = f", decided in round {change['decided']}" if change.get("decided") and change["decided"] != change["round"] else ""
        lines.append(
            Text.assemble(
                (f"{signed(change['delta']):>6} ", "bold"),
                literal(change["label"]),
                "  ",
                (f"[{LEVER_NAMES.get(lever, lever)}{late}]", LEVER_STYLES.get(lever, "")),
                "  ",
                literal(change["explain"], "italic"),
            )
        )
    if not lines:
        lines.append(Text("No change you can see this round.", style="dim"))
    return RichGroup(*lines)


def debrief_renderable(debrief: dict[str, Any], metric: str | None = None) -> RichGroup:
    """The whole system after the game, as one renderable: the story's sections in order
    (:func:`game.tui.shared.story.sections`), with each metric's chart drawn as a sparkline
    per organisation; ``metric`` keeps one metric's chart alone. For charts drawn with
    textual-plotext, paging and the rest, use :class:`game.tui.shared.story.StoryView`."""
    from game.tui.shared.story import sections

    story = debrief["story"]
    parts: list[Any] = []
    for title, body in sections(story):
        if isinstance(body, str):
            name = body.removeprefix("chart:")
            if metric and name != metric:
                continue
            body = _sparklines(story, name)
        parts.append(Text(title, style="bold underline"))
        parts.append(body)
        parts.append(Text(""))
    return RichGroup(*parts)


def _sparklines(story: dict[str, Any], metric: str) -> Table:
    low, high = story["metrics"][metric].get("bounds", [0, 100])
    table = Table(box=None, expand=True, show_header=False)
    table.add_column("org")
    table.add_column("trend")
    table.add_column("values")
    for org in story["orgs"]:
        series = org["series"][metric]
        # scaled to the values' own range, so that 50 and 66 differ
        lo, hi = min(series + [low if low > min(series) - 20 else min(series)]), max(series)
        table.add_row(literal(org["title"]), spark(series, lo, hi if hi > lo else lo + 1), " ".join(f"{v:.0f}" for v in series))
    return table
