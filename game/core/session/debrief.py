"""The debrief: the whole system, for everyone, after the last round: every metric, what each
lever did, what another pattern would have done, which channels were used and which stayed
silent, and the answers given in time-outs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from game.core.deck import GROUPS, LEVERS
from game.core.engine import Change, attribution, counterfactual
from game.core.session.state import Session, is_withdrawal
from game.core.story import story
from game.core.structure import Shift, describe_shift


def change_view(session: Session, change: Change) -> dict[str, Any]:
    """One change of a metric, as views show it."""
    return {
        "metric": change.metric,
        "label": session.deck.metrics[change.metric].label,
        "delta": round(change.delta, 3),
        "lever": change.lever,
        "kind": change.kind,
        "cause": change.cause,
        "explain": change.explain,
        "group": change.group,
        "decided": change.decided,
        "round": change.round,
    }


def shift_view(session: Session, shift: Shift) -> dict[str, Any]:
    """One change of an organisation's structure, with a sentence in the deck's names."""
    deck = session.deck
    a, b = shift.subject
    text = describe_shift(shift, {g: deck.groups[g].name for g in GROUPS}, {m: x.label for m, x in deck.metrics.items()})
    return {
        "round": shift.round,
        "kind": shift.kind,
        "subject": [a, b],
        "amount": round(shift.amount, 3),
        "lever": shift.lever,
        "cause_kind": shift.cause_kind,
        "cause": shift.cause,
        "group": shift.group,
        "explain": shift.explain,
        "text": text,
    }


def requests_view(session: Session, org_index: int, rounds: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """The requests of resolved rounds, each with how much of the asked group granted it."""
    org = session.orgs[org_index]
    wanted = set(rounds) if rounds is not None else None
    out = []
    for number, inputs in enumerate(org.log, start=1):
        if wanted is not None and number not in wanted:
            continue
        for (asker, asked, option), share in sorted(inputs.requests.items()):
            picks = inputs.choices.get(asked, ())
            out.append(
                {
                    "round": number,
                    "from": asker,
                    "to": asked,
                    "option": option,
                    "label": session.option_label(inputs.card, asked, option),
                    "share": round(share, 3),
                    "granted": round(sum(1 for p in picks if p == option) / len(picks), 3) if picks else 0.0,
                }
            )
    return out


def debrief(session: Session) -> dict[str, Any]:
    """The whole system, for everyone, after the last round."""
    deck = session.deck
    orgs = []
    for org in session.orgs:
        totals = attribution(org.state.history)
        counterfactuals = []
        for other in deck.patterns:
            if other != org.pattern or len(set(org.patterns_used)) > 1:
                cf = counterfactual(
                    session.book, org.state.seed, org.patterns_used[0] if org.patterns_used else org.pattern, org.log, other_pattern=other
                )
                counterfactuals.append(
                    {
                        "description": cf.description,
                        "pattern": other,
                        "metrics": {m: round(v, 3) for m, v in cf.alternative.metrics.items()},
                        "difference": {m: round(v, 3) for m, v in cf.difference.items()},
                    }
                )
        if any(o.lever == "special_treatment" for c in deck.cards for o in c.options):
            cf = counterfactual(
                session.book,
                org.state.seed,
                org.patterns_used[0] if org.patterns_used else org.pattern,
                org.log,
                withhold="special_treatment",
            )
            counterfactuals.append(
                {
                    "description": cf.description,
                    "pattern": "",
                    "metrics": {m: round(v, 3) for m, v in cf.alternative.metrics.items()},
                    "difference": {m: round(v, 3) for m, v in cf.difference.items()},
                }
            )
        channels: dict[str, int] = {}
        for m in org.messages:
            if m["from"] != m["to"] and not is_withdrawal(m):
                key = f"{m['from']}->{m['to']}"
                channels[key] = channels.get(key, 0) + 1
        opened = sorted(f"{a}->{b}" for a, b in org.state.structure.open)
        asked = requests_view(session, org.index)
        orgs.append(
            {
                "org": org.index,
                "pattern": org.pattern,
                "patterns_used": list(org.patterns_used),
                "metrics": {m: round(v, 3) for m, v in org.state.metrics.items()},
                "history": [{m: round(v, 3) for m, v in h.items()} for h in org.history],
                "by_lever": {m: {lv: round(per.get(lv, 0.0), 3) for lv in LEVERS} for m, per in totals.items()},
                "by_round_lever": _by_round_lever(org.state.history),
                "counterfactuals": counterfactuals,
                "channels": channels,
                "silent": [c for c in opened if c not in channels],
                "changes": [change_view(session, c) for c in org.state.history],
                "requests": asked,
                "shifts": [shift_view(session, s) for s in org.state.shifts],
                "open": opened,
            }
        )
    summary = {
        "metrics": {n: {"label": m.label, "visible_to": list(m.visible_to), "better": m.better} for n, m in deck.metrics.items()},
        "orgs": orgs,
        "answers": list(session.answers.values()),
        "prompts": {g: list(deck.groups[g].timeout) for g in GROUPS},
        "questions": list(deck.deck.debrief),
    }
    summary["story"] = story(session, summary)
    return summary


def _by_round_lever(history: Iterable[Change]) -> dict[str, list[dict[str, float]]]:
    out: dict[str, list[dict[str, float]]] = {}
    for c in history:
        rounds = out.setdefault(c.metric, [])
        while len(rounds) < c.round:
            rounds.append(dict.fromkeys(LEVERS, 0.0))
        rounds[c.round - 1][c.lever] = round(rounds[c.round - 1][c.lever] + c.delta, 3)
    return out
