"""Line charts of each metric over the rounds, organisations side by side, as SVG files a
facilitator can paste into slides. Drawn with pygal, which writes standalone SVG in pure
Python (plotext, used for the terminal, cannot write SVG; matplotlib is far heavier)."""

from __future__ import annotations

from typing import Any

import pygal
from pygal.style import Style

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#999999",
    colors=("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"),
    font_family="sans-serif",
)


def metric_chart(story: dict[str, Any], metric: str) -> str:
    """One metric over the rounds (the start, then after each round), one line per organisation."""
    info = story["metrics"][metric]
    low, high = info.get("bounds", [0, 100])
    chart = pygal.Line(
        style=STYLE,
        width=800,
        height=450,
        title=info["label"],
        x_title="Round",
        y_title=info["label"] + (" (lower is better)" if info.get("better") == "lower" else ""),
        range=(low, high),
        show_dots=True,
        legend_at_bottom=True,
        truncate_legend=-1,
        js=[],  # standalone: no script fetched from the network when the file is opened
        disable_xml_declaration=False,
    )
    rounds = max((len(o["series"][metric]) for o in story["orgs"]), default=1)
    chart.x_labels = ["Start"] + [str(r) for r in range(1, rounds)]
    for org in story["orgs"]:
        chart.add(org["title"], [round(v, 1) for v in org["series"][metric]])
    return chart.render(is_unicode=True)
