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

from game.tui.shared.text import LEVER_NAMES, LEVER_STYLES, PHASE_NAMES, bar, literal, signed, spark


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
    """The whole system after the game: per metric, change by lever and over the rounds,
    the organisations side by side, counterfactuals, conversations and answers."""
    parts: list[Any] = []
    metrics = debrief["metrics"]
    orgs = debrief["orgs"]
    chosen = [metric] if metric else list(metrics)
    side = Table(title="Where each organisation ended", expand=True, header_style="bold")
    side.add_column("Metric")
    for org in orgs:
        side.add_column(Text(f"Org {org['org'] + 1} ({org['pattern']})"), justify="right")
    for name, info in metrics.items():
        cells = []
        for org in orgs:
            start = org["history"][0][name] if org["history"] else org["metrics"][name]
            cells.append(f"{start:.0f} → {org['metrics'][name]:.0f}")
        side.add_row(literal(info["label"]), *cells)
    parts.append(side)
    for name in chosen:
        info = metrics[name]
        levers = Table(title=f"{info['label']}: change by lever", expand=True, header_style="bold", box=None)
        levers.add_column("Org")
        levers.add_column("Lever")
        levers.add_column("Change", justify="right")
        levers.add_column("")
        scale = max([abs(v) for org in orgs for v in org["by_lever"].get(name, {}).values()] + [1.0])
        for org in orgs:
            for lever, value in org["by_lever"].get(name, {}).items():
                levers.add_row(
                    f"{org['org'] + 1}",
                    Text(LEVER_NAMES[lever], style=LEVER_STYLES[lever]),
                    signed(value),
                    Text(bar(value, scale, 14), style=LEVER_STYLES[lever]),
                )
        parts.append(levers)
        rounds = Table(title=f"{info['label']}: change by round", expand=True, header_style="bold", box=None)
        rounds.add_column("Org")
        rounds.add_column("Lever")
        n = max((len(org["by_round_lever"].get(name, [])) for org in orgs), default=0)
        for r in range(n):
            rounds.add_column(f"R{r + 1}", justify="right")
        for org in orgs:
            per_round = org["by_round_lever"].get(name, [])
            for lever in LEVER_NAMES:
                values = [per_round[r][lever] if r < len(per_round) else 0.0 for r in range(n)]
                if any(abs(v) >= 0.05 for v in values):
                    rounds.add_row(f"{org['org'] + 1}", Text(LEVER_NAMES[lever], style=LEVER_STYLES[lever]), *[signed(v) for v in values])
        parts.append(rounds)
    cf = Table(title="Counterfactuals: the same choices, another structure", expand=True, header_style="bold")
    cf.add_column("Org")
    cf.add_column("Instead")
    for name in chosen:
        cf.add_column(Text(metrics[name]["label"]), justify="right")
    for org in orgs:
        for alt in org["counterfactuals"]:
            cf.add_row(
                f"{org['org'] + 1}", literal(alt["description"]), *[f"{org['metrics'][m]:.0f} vs {alt['metrics'][m]:.0f}" for m in chosen]
            )
    parts.append(cf)
    talk = Table(title="Conversations: messages along each channel", expand=True, header_style="bold", box=None)
    talk.add_column("Org")
    talk.add_column("Used channels")
    talk.add_column("Silent channels", style="dim")
    for org in orgs:
        used = ", ".join(f"{k} {v}" for k, v in sorted(org["channels"].items(), key=lambda kv: -kv[1])) or "none"
        talk.add_row(f"{org['org'] + 1}", used, ", ".join(org["silent"]) or "none")
    parts.append(talk)
    if debrief.get("answers"):
        answers = Table(title="Time-out answers", expand=True, header_style="bold", box=None)
        answers.add_column("Who")
        answers.add_column("Prompt")
        answers.add_column("Answer")
        for a in debrief["answers"]:
            prompt = debrief["prompts"][a["group"]][a["prompt"]] if a["prompt"] < len(debrief["prompts"][a["group"]]) else ""
            answers.add_row(
                literal(f"{a['name']} ({a['group']}, org {a['org'] + 1}, round {a['round']})"), literal(prompt, "dim"), literal(a["text"])
            )
        parts.append(answers)
    if debrief.get("questions"):
        parts.append(Text("Questions for the room", style="bold underline"))
        parts.extend(literal(f"• {q}") for q in debrief["questions"])
    return RichGroup(*parts)
