"""Plain-text renderings: a bot game told round by round, and simulation reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from game.core.deck import GROUPS, LEVERS
from game.core.engine import Change, attribution, counterfactual
from game.core.rulebook import Rulebook
from game.core.simulate import play_game
from game.core.structure import Shift, describe_shift

LEVER_NAMES = {
    "special_treatment": "special treatment",
    "considerateness": "considerateness",
    "interaction": "interaction",
    "other": "other",
}


def describe_change(book: Rulebook, change: Change) -> str:
    metric = book.deck.metrics[change.metric]
    sign = "+" if change.delta >= 0 else "-"
    capped = "" if abs(change.asked - change.delta) < 1e-9 else f" (capped from {change.asked:+.1f})"
    late = f", decided in round {change.decided}" if change.decided != change.round else ""
    return f"{metric.label:<28} {sign}{abs(change.delta):5.1f}{capped}  [{LEVER_NAMES[change.lever]}{late}] {change.explain}"


def tell_game(book: Rulebook, seed: int, pattern: str, strategy: Any, out: Callable[[str], None]) -> None:
    """Play one bot game and write it out as a story: situations, choices, changes, attribution."""
    deck = book.deck
    record = play_game(book, seed, pattern, strategy)
    out(f"{deck.deck.title}")
    out(f"Pattern: {deck.patterns[pattern].label or pattern} - {deck.patterns[pattern].description}")
    out("")
    changes_by_round: dict[int, list[Change]] = {}
    for change in record.final.history:
        changes_by_round.setdefault(change.round, []).append(change)
    shifts_by_round: dict[int, list[Shift]] = {}
    for shift in record.final.shifts:
        shifts_by_round.setdefault(shift.round, []).append(shift)
    for r, inputs in enumerate(record.log, start=1):
        card = deck.card(inputs.card)
        out(f"== Round {r} of {deck.deck.rounds}: {card.title or card.id}")
        if "all" in card.text:
            out(f"   {card.text['all']}")
        for group in GROUPS:
            picks = inputs.choices.get(group)
            if not picks:
                continue
            option = next(o for o in card.options if o.group == group and o.id == picks[0])
            out(f"   {deck.groups[group].name}: {option.label}")
        for asker, asked, option in sorted(inputs.requests):
            label = next((o.label for o in card.options if o.group == asked and o.id == option), option)
            picks = inputs.choices.get(asked, ())
            granted = sum(1 for p in picks if p == option) / len(picks) if picks else 0.0
            answer = "granted" if granted >= 0.5 else "not granted"
            out(f"   {deck.groups[asker].name} asked {deck.groups[asked].name} to: {label} ({answer})")
        sent = sum(inputs.messages.values())
        if sent:
            out(f"   {sent} messages went along {len(inputs.messages)} open channels.")
        out("   What changed:")
        for change in changes_by_round.get(r, []):
            out("     " + describe_change(book, change))
        for shift in shifts_by_round.get(r, []):
            sentence = describe_shift(shift, {g: deck.groups[g].name for g in GROUPS}, {m: x.label for m, x in deck.metrics.items()})
            out(f"     structure: {sentence}  [{LEVER_NAMES[shift.lever]}] {shift.explain}")
        out("")
    out("== Where the game ended, and why")
    totals = attribution(record.final.history)
    for name, metric in deck.metrics.items():
        start, end = metric.start, record.final.metrics[name]
        per_lever = totals.get(name, dict.fromkeys(LEVERS, 0.0))
        parts = ", ".join(f"{LEVER_NAMES[lv]} {v:+.1f}" for lv, v in per_lever.items() if abs(v) > 1e-9)
        out(f"   {metric.label:<28} {start:5.1f} -> {end:5.1f}   {parts or 'no change'}")
    others = [p for p in deck.patterns if p != pattern]
    if others:
        cf = counterfactual(book, seed, pattern, record.log, other_pattern=others[0])
        out("")
        out(f"== Counterfactual: {cf.description}")
        out(f"   {'':<28} {'played':>7} {others[0]:>12}")
        for name, metric in deck.metrics.items():
            out(f"   {metric.label:<28} {cf.actual.metrics[name]:7.1f} {cf.alternative.metrics[name]:12.1f}")


def format_simulation(book: Rulebook, report: dict[str, Any]) -> str:
    """The simulate report as text for a trainer."""
    deck = book.deck
    lines = [
        f"{deck.deck.title} - {report['runs']} games per pattern, strategy {report['strategy']}, "
        f"seeds {report['seed']}..{report['seed'] + report['runs'] - 1}",
        "",
    ]
    for pattern, data in report["patterns"].items():
        lines.append(f"== Pattern {pattern}")
        lines.append(f"   {'metric':<28} {'start':>6} {'mean':>7} {'p10':>7} {'p90':>7}   change by lever")
        for name, m in data["metrics"].items():
            levers = data["levers"][name]
            parts = "  ".join(
                f"{LEVER_NAMES[lv]} {v['mean_change']:+.1f} ({v['share']:.0%})" for lv, v in levers.items() if abs(v["mean_change"]) >= 0.05
            )
            label = deck.metrics[name].label
            lines.append(f"   {label:<28} {m['start']:6.1f} {m['mean']:7.1f} {m['p10']:7.1f} {m['p90']:7.1f}   {parts}")
        lines.append("   rules (share of games fired, mean times per game):")
        for rid, r in data["rules"].items():
            lines.append(f"     {rid:<36} {r['games_fired']:6.0%}  {r['mean_fires']:.2f}")
        if data["never_fired"]:
            lines.append("   never fired: " + ", ".join(data["never_fired"]))
        if data["never_picked"]:
            lines.append("   never picked: " + ", ".join(f"{p['card']}/{p['group']}/{p['option']}" for p in data["never_picked"]))
        if data["never_dealt"]:
            lines.append("   never dealt: " + ", ".join(data["never_dealt"]))
        lines.append("")
    if report.get("dominant_options"):
        lines.append(
            "Options that beat every alternative on everything their group sees: "
            + ", ".join(f"{d['card']}/{d['group']}/{d['option']}" for d in report["dominant_options"])
        )
    claim = report.get("claim")
    if claim:
        verdict = "HOLDS" if claim["holds"] else "DOES NOT HOLD"
        lines.append(f"Claim {verdict}: {claim['point']}")
        lines.append(
            f"   {claim['better']} beat {claim['than']} in {claim['share_of_runs']:.0%} of runs (needed {claim['at_least']:.0%}); "
            f"largest lever of the difference: {LEVER_NAMES[claim['largest_lever']]} "
            f"({claim['lever_shares'][claim['largest_lever']]:.0%}), expected {LEVER_NAMES[claim['expected_lever']]}"
        )
    if report.get("agency"):
        from game.cli.agency_text import format_agency

        lines.append("")
        lines.extend(format_agency(report["agency"]))
    return "\n".join(lines)
