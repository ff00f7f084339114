"""The debrief's story on a terminal, for the console, the participants' screens and the
projector: each section of :func:`game.core.story.story` as a Rich renderable, and a line chart
of each metric over the rounds, organisations side by side (textual-plotext).

``StoryView`` shows the sections one after another in a scroll (``paged=False``) or one at a
time, paged with the arrow keys (``paged=True``, for a projector).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group as RichGroup
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static
from textual_plotext import PlotextPlot

from game.core.story import granted_words
from game.tui.shared.text import LEVER_STYLES, bar, literal, signed

# Section = (title, renderable) or (title, "chart:METRIC")
Section = tuple[str, Any]


class MetricChart(PlotextPlot):
    """One metric over the rounds (start, then after each round), a line per organisation."""

    DEFAULT_CSS = """
    MetricChart { height: 1fr; min-height: 10; }
    """

    def __init__(self, story: dict[str, Any], metric: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.story, self.metric = story, metric

    def on_mount(self) -> None:
        super().on_mount()
        plt = self.plt
        info = self.story["metrics"][self.metric]
        low, high = info.get("bounds", [0, 100])
        plt.title(info["label"] + (" (lower is better)" if info.get("better") == "lower" else ""))
        for org in self.story["orgs"]:
            series = org["series"][self.metric]
            plt.plot(list(range(len(series))), series, label=org["title"], marker="braille")
        rounds = max((len(o["series"][self.metric]) for o in self.story["orgs"]), default=1)
        plt.xticks(list(range(rounds)), ["Start"] + [str(r) for r in range(1, rounds)])
        plt.ylim(low, high)
        plt.xlabel("Round")


def sections(story: dict[str, Any]) -> list[Section]:
    """The story's sections in the order a debrief tells them: the counterfactual first."""
    out: list[Section] = [
        ("What another structure would have done", counterfactuals(story)),
        ("Where each organisation ended", ended(story)),
        ("The structure of each organisation in each round", structures(story)),
    ]
    out += [(f"{m['label']} over the rounds", f"chart:{name}") for name, m in story["metrics"].items()]
    out += [
        ("Change by lever", by_lever(story)),
        ("Round by round: choices and requests", timeline(story)),
        ("Conversations", conversations(story)),
        ("Time-out answers", answers(story)),
    ]
    if story.get("questions"):
        out.append(("Questions for the room", RichGroup(*[literal(f"• {q}") for q in story["questions"]])))
    return out


def counterfactuals(story: dict[str, Any]) -> RenderableType:
    actual = story["legend"]["actual"]
    parts: list[RenderableType] = [
        Text.assemble(
            ("Legend: ", "bold"),
            "each cell reads ",
            (actual, "bold"),
            " / ",
            ("the same choices", "italic"),
            " under the column's structure.",
        )
    ]
    for org in story["orgs"]:
        if not org["counterfactuals"]:
            continue
        table = Table(title=literal(org["title"]), title_justify="left", expand=True, header_style="bold")
        table.add_column("Metric")
        for cf in org["counterfactuals"]:
            table.add_column(Text.assemble(actual, " / ", literal(cf["legend"])), justify="right")
        for name, info in story["metrics"].items():
            cells = []
            for cf in org["counterfactuals"]:
                m = cf["metrics"][name]
                cells.append(Text.assemble(f"{m['actual']:.0f} / {m['alternative']:.0f} ", (f"({signed(m['difference'])})", "dim")))
            table.add_row(literal(info["label"]), *cells)
        parts.append(table)
    if len(parts) == 1:
        parts.append(Text("No other structure to compare with.", style="dim"))
    return RichGroup(*parts)


def ended(story: dict[str, Any]) -> RenderableType:
    table = Table(expand=True, header_style="bold")
    table.add_column("Metric")
    for org in story["orgs"]:
        table.add_column(literal(org["title"]), justify="right")
    for name, info in story["metrics"].items():
        table.add_row(literal(info["label"]), *[f"{o['series'][name][0]:.0f} → {o['series'][name][-1]:.0f}" for o in story["orgs"]])
    return table


def structures(story: dict[str, Any]) -> RenderableType:
    table = Table(expand=True, header_style="bold")
    table.add_column("Round", justify="right")
    for org in story["orgs"]:
        table.add_column(literal(org["label"]))
    rounds = max((len(o["rounds"]) for o in story["orgs"]), default=0)
    for n in range(rounds):
        cells: list[Text] = []
        for org in story["orgs"]:
            if n >= len(org["rounds"]):
                cells.append(Text(""))
                continue
            r = org["rounds"][n]
            cell = literal(r["pattern_label"], "bold" if r["switched"] else "")
            if r["switched"]:
                cell.append(" (switched by the facilitator)", style="yellow")
            for text in r["earned"]:
                cell.append("\n+ ")
                cell.append_text(literal(text, "green"))
            cells.append(cell)
        table.add_row(str(n + 1), *cells)
    return RichGroup(table, Text("+ a change the players made; it holds from the next round on.", style="dim"))


def by_lever(story: dict[str, Any]) -> RenderableType:
    table = Table(expand=True, header_style="bold", box=None)
    table.add_column("Organisation")
    table.add_column("Metric")
    table.add_column("Lever")
    table.add_column("Change", justify="right")
    table.add_column("")
    scale = max([abs(v) for o in story["orgs"] for per in o["by_lever"].values() for v in per.values()] + [1.0])
    for org in story["orgs"]:
        for name, info in story["metrics"].items():
            for lever, label in story["levers"].items():
                value = org["by_lever"].get(name, {}).get(lever, 0.0)
                if abs(value) < 0.05:
                    continue
                style = LEVER_STYLES.get(lever, "")
                table.add_row(
                    org["label"], literal(info["label"]), Text(label, style=style), signed(value), Text(bar(value, scale, 10), style=style)
                )
    return table


def timeline(story: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    groups = story["groups"]
    for org in story["orgs"]:
        parts.append(literal(org["title"], "bold underline"))
        for r in org["rounds"]:
            head = Text.assemble((f"Round {r['round']}: ", "bold"), literal(r["card"], "bold"), "  ", literal(r["pattern_label"], "cyan"))
            lines: list[Text] = [head]
            for g, picks in r["choices"].items():
                lines.append(
                    Text.assemble(
                        "  ", literal(groups[g], "bold"), " chose ", literal("; ".join(f"{c['label']} ({c['count']})" for c in picks))
                    )
                )
            for q in r["requests"]:
                lines.append(
                    Text.assemble(
                        "  ",
                        literal(q["from_name"], "bold"),
                        " asked ",
                        literal(q["to_name"], "bold"),
                        " to “",
                        literal(q["label"]),
                        "”: ",
                        (granted_words(q["granted"]), "green" if q["granted"] >= 0.5 else "red"),
                    )
                )
            for label in r["injects"]:
                lines.append(Text.assemble("  ", ("event: ", "yellow"), literal(label)))
            for text in r["earned"]:
                lines.append(Text.assemble("  ", ("structure changed: ", "green"), literal(text)))
            parts.extend(lines)
        parts.append(Text(""))
    return RichGroup(*parts)


def conversations(story: dict[str, Any]) -> RenderableType:
    table = Table(expand=True, header_style="bold", box=None)
    table.add_column("Organisation")
    table.add_column("Used channels (messages and requests)")
    table.add_column("Silent channels", style="dim")
    for org in story["orgs"]:
        used = ", ".join(f"{k} {v}" for k, v in sorted(org["channels"].items(), key=lambda kv: -kv[1])) or "none"
        table.add_row(org["label"], literal(used), literal(", ".join(org["silent"]) or "none"))
    return table


def answers(story: dict[str, Any]) -> RenderableType:
    if not story["answers"]:
        return Text("No answers are shown yet: the facilitator picks which to show.", style="dim")
    table = Table(expand=True, header_style="bold", box=None)
    table.add_column("Who")
    table.add_column("Prompt")
    table.add_column("Answer")
    for a in story["answers"]:
        who = f"{a['name']}, " if a.get("name") else ""
        table.add_row(
            literal(f"{who}{a['group_name']}, org {a['org'] + 1}, round {a['round']}"), literal(a["prompt"], "dim"), literal(a["text"])
        )
    return table


class StoryView(Widget, can_focus=True):
    """The story's sections: all in a scroll, or one at a time paged with ← and →."""

    DEFAULT_CSS = """
    StoryView { height: 1fr; }
    StoryView #story-page-title { height: 1; background: $panel; padding: 0 1; }
    StoryView #story-page { height: 1fr; padding: 0 1; }
    StoryView .story-title { margin-top: 1; text-style: bold underline; }
    StoryView MetricChart { height: 16; }
    StoryView #story-page MetricChart { height: 1fr; }
    """
    BINDINGS = [
        Binding("right,pagedown,space", "page(1)", "Next section", show=False),
        Binding("left,pageup", "page(-1)", "Previous section", show=False),
        Binding("down", "scroll_section(1)", "Scroll down", show=False),
        Binding("up", "scroll_section(-1)", "Scroll up", show=False),
    ]
    page: reactive[int] = reactive(0)

    def __init__(self, story: dict[str, Any], *, paged: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.story, self.paged = story, paged
        self.parts = sections(story)

    def compose(self) -> ComposeResult:
        if self.paged:
            yield Static("", id="story-page-title")
            yield Vertical(id="story-page")
        else:
            with VerticalScroll(id="story-scroll"):
                for title, body in self.parts:
                    yield Static(Text(title), classes="story-title")
                    yield self._body(body)

    def _body(self, body: Any) -> Widget:
        if isinstance(body, str) and body.startswith("chart:"):
            return MetricChart(self.story, body.removeprefix("chart:"))
        return Static(body)

    def on_mount(self) -> None:
        if self.paged:
            self.show_page()

    def watch_page(self) -> None:
        if self.paged and self.is_mounted:
            self.show_page()

    def show_page(self) -> None:
        title, body = self.parts[self.page]
        self.query_one("#story-page-title", Static).update(
            Text.assemble((title, "bold"), (f"   {self.page + 1} of {len(self.parts)}  ·  ← → to page, ↑ ↓ to scroll", "dim"))
        )
        holder = self.query_one("#story-page", Vertical)
        holder.remove_children()
        holder.mount(VerticalScroll(self._body(body)) if not (isinstance(body, str) and body.startswith("chart:")) else self._body(body))

    def action_page(self, step: int) -> None:
        if self.paged:
            self.page = (self.page + step) % len(self.parts)
        else:
            self.query_one("#story-scroll", VerticalScroll).scroll_page_down() if step > 0 else self.query_one(
                "#story-scroll", VerticalScroll
            ).scroll_page_up()

    def action_scroll_section(self, step: int) -> None:
        """Up and down scroll what is on show: the page (paged) or the whole story."""
        for scroll in self.query(VerticalScroll).results(VerticalScroll):
            scroll.scroll_relative(y=step * 3)
            return

    def section_titles(self) -> list[str]:
        return [title for title, _ in self.parts]
