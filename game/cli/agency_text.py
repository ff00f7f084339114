"""The agency block of ``crossroads deck simulate`` as text for a trainer, with a histogram of
the claim score per pattern drawn by plotext."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotext

HIST_WIDTH = 72
HIST_HEIGHT = 9
HIST_BINS = 24


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _points(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}"


def histogram(scores: Mapping[str, Sequence[float]], *, width: int = HIST_WIDTH, height: int = HIST_HEIGHT, bins: int = HIST_BINS) -> str:
    """One bar chart per pattern of the games' claim scores, on the same bins and the same axis,
    so that a trainer sees at a glance whether the outcomes of the patterns overlap."""
    values = [v for vs in scores.values() for v in vs]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    step = (hi - lo) / bins
    centres = [lo + step * (i + 0.5) for i in range(bins)]
    ticks = [lo + (hi - lo) * i / 5 for i in range(6)]
    tallies = {}
    for pattern, vs in scores.items():
        counts = [0] * bins
        for v in vs:
            counts[min(bins - 1, int((v - lo) / step))] += 1
        tallies[pattern] = counts
    top = max(max(c) for c in tallies.values()) or 1
    yticks = [0, top / 2, top]
    charts = []
    for pattern, counts in tallies.items():
        vs = scores[pattern]
        plotext.clear_figure()
        plotext.bar(centres, counts, width=1)
        plotext.xlim(lo, hi)
        plotext.xticks(ticks, [f"{t:.1f}" for t in ticks])
        plotext.ylim(0, top)
        plotext.yticks(yticks, [f"{t:5.0f}" for t in yticks])  # one width, so the charts line up
        plotext.title(f"{pattern}: claim score of {len(vs)} adaptive games")
        plotext.plotsize(width, height)
        plotext.theme("clear")
        charts.append(plotext.uncolorize(plotext.build()))
    plotext.clear_figure()
    return "\n".join(charts)


def format_agency(agency: dict[str, Any]) -> list[str]:
    """The lines of the agency block."""
    better, than = agency["better"], agency["than"]
    lines = [
        f"== Agency: does play carry the claim ({better} better than {than})?",
        f"   claim score: {agency['score']}",
        f"   {'strategy':<14} {'holds':>6} {'mean gap':>9} {better[:12]:>12} {than[:12]:>12}",
    ]
    for name, row in agency["claim_by_strategy"].items():
        lines.append(f"   {name:<14} {row['holds']:6.0%} {row['gap']:+9.1f} {row['score'][better]:12.1f} {row['score'][than]:12.1f}")
    parts = agency["gap_parts"]
    lines.append(f"   mean adaptive gap {agency['mean_gap']:+.1f} points, split by replaying each {than} game's play under {better}:")
    if agency["gap_from_behaviour"] is None:
        lines.append("     the mean gap is about 0, so it is not split (the shares are null in --json)")
    else:
        lines.append(f"     players' different behaviour {_points(parts['behaviour'])} ({_share(agency['gap_from_behaviour'])})")
        lines.append(f"     the structure alone          {_points(parts['structure'])} ({_share(agency['gap_from_structure'])})")
        lines.append(f"       of which decree rules      {_points(parts['decrees'])} ({_share(agency['gap_from_decrees'])})")
    if agency["decree_rules"]:
        lines.append("   decree rules (fire on the pattern alone): " + ", ".join(agency["decree_rules"]))
    search = agency["search"]
    lines.append(f"   achievable claim score (beam search, width {search['beam']}, over {search['seeds']} seeds):")
    for pattern in (better, than):
        best, worst = agency["best_play"][pattern], agency["worst_play"][pattern]
        typical = agency["claim_by_strategy"]["adaptive"]["score"][pattern]
        lines.append(
            f"     {pattern:<16} worst {_points(worst)[1:] if worst is not None else 'n/a':>6}  "
            f"typical {typical:6.1f}  best {_points(best)[1:] if best is not None else 'n/a':>6}"
        )
    best_than, typical_better = agency["best_play"][than], agency["claim_by_strategy"]["adaptive"]["score"][better]
    if best_than is not None:
        verdict = "can" if best_than >= typical_better else "cannot"
        lines.append(f"     the best play under {than} {verdict} catch up with typical play under {better}")
    lines.append(
        f"   decisions whose best option depends on the pattern: {_share(agency['pattern_dependent_decisions'])} "
        f"(each option forced into {agency['decision_games']} adaptive games per pattern)"
    )
    if agency["dominant_options"]:
        lines.append("   dominant (best under every pattern): " + ", ".join(agency["dominant_options"]))
    if agency["inert_options"]:
        lines.append("   inert (change no metric and no structure): " + ", ".join(agency["inert_options"]))
    chart = histogram(agency["claim_scores"])
    if chart:
        lines.append("")
        lines.extend(chart.splitlines())
    return lines
