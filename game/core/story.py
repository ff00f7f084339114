"""The story of a session: what the debrief tells a room, in the deck's own names.

One source for every place that tells it: the facilitator's console, the participants'
screens, the projector and the exports. Built from the debrief (:func:`game.core.session.debrief`)
and each organisation's log of round inputs, JSON-ready, with human labels everywhere:
pattern and group names from the deck, metric labels, lever names.

The story a room sees holds no participant's name. The facilitator's archive
(:func:`archive`) adds what only the facilitator and the exports see: names, message texts and
every answer with its author.
"""

from __future__ import annotations

from typing import Any

from game.core.deck import GROUPS

LEVER_LABELS = {
    "special_treatment": "special treatment",
    "considerateness": "considerateness",
    "interaction": "interaction",
    "other": "other",
}
ACTUAL = "what happened"


def org_label(index: int) -> str:
    return f"Organisation {index + 1}"


def pattern_label(session: Any, pattern: str) -> str:
    found = session.deck.patterns.get(pattern)
    return (found.label or pattern) if found else pattern


def labels(session: Any) -> dict[str, Any]:
    """The deck's names for everything the story mentions."""
    deck = session.deck
    return {
        "groups": {g: deck.groups[g].name for g in GROUPS},
        "patterns": {p: pattern_label(session, p) for p in deck.patterns},
        "metrics": {m: {"label": v.label, "better": v.better, "bounds": list(v.bounds)} for m, v in deck.metrics.items()},
        "levers": dict(LEVER_LABELS),
    }


def story(session: Any, summary: dict[str, Any]) -> dict[str, Any]:
    """The story of the game so far, from ``summary`` (the session's debrief): per organisation
    its structure in each round, the timeline of choices and requests, each metric over the
    rounds, the change by lever and the counterfactuals with their legend; and the answers
    the facilitator chose to show (without names unless the facilitator shows them)."""
    names = labels(session)
    groups = names["groups"]
    orgs = []
    for org, told in zip(session.orgs, summary["orgs"], strict=True):
        rounds = []
        shifts_by_round: dict[int, list[str]] = {}
        for shift in told["shifts"]:
            shifts_by_round.setdefault(shift["round"], []).append(shift["text"])
        previous = ""
        for number, inputs in enumerate(org.log, start=1):
            pattern = inputs.pattern or org.pattern
            card = session.book.cards.get(inputs.card)
            choices = {}
            for group in GROUPS:
                picks = list(inputs.choices.get(group, ()))
                if not picks:
                    continue
                counts: dict[str, int] = {}
                for pick in picks:
                    counts[pick] = counts.get(pick, 0) + 1
                choices[group] = [
                    {
                        "option": option,
                        "label": session.option_label(inputs.card, group, option),
                        "count": n,
                        "share": round(n / len(picks), 3),
                    }
                    for option, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                ]
            requests = [
                {
                    "from": r["from"],
                    "to": r["to"],
                    "from_name": groups[r["from"]],
                    "to_name": groups[r["to"]],
                    "option": r["option"],
                    "label": r["label"],
                    "share": r["share"],
                    "granted": r["granted"],
                }
                for r in told["requests"]
                if r["round"] == number
            ]
            injects = [i.label for i in session.deck.injects if i.id in inputs.injects]
            rounds.append(
                {
                    "round": number,
                    "card": (card.title or card.id) if card else inputs.card,
                    "pattern": pattern,
                    "pattern_label": names["patterns"].get(pattern, pattern),
                    "switched": bool(previous) and pattern != previous,
                    "earned": shifts_by_round.get(number, []),  # structure the players changed, in force from the next round
                    "choices": choices,
                    "requests": requests,
                    "messages": {f"{a}->{b}": n for (a, b), n in sorted(inputs.messages.items()) if a != b},
                    "injects": injects,
                }
            )
            previous = pattern
        series = {m: [h[m] for h in told["history"]] for m in names["metrics"]}
        counterfactuals = []
        for cf in told["counterfactuals"]:
            if cf["pattern"]:
                legend = f"the same choices under {names['patterns'].get(cf['pattern'], cf['pattern'])}"
            else:
                legend = "the same choices with special treatment withheld"
            counterfactuals.append(
                {
                    "legend": legend,
                    "pattern": cf["pattern"],
                    "metrics": {
                        m: {"actual": told["metrics"][m], "alternative": cf["metrics"][m], "difference": cf["difference"][m]}
                        for m in names["metrics"]
                    },
                }
            )
        used = list(dict.fromkeys(told["patterns_used"] or [org.pattern]))
        orgs.append(
            {
                "org": org.index,
                "label": org_label(org.index),
                "patterns": [names["patterns"].get(p, p) for p in used],  # every pattern it played, in order
                "title": f"{org_label(org.index)} ({' then '.join(names['patterns'].get(p, p) for p in used)})",
                "rounds": rounds,
                "series": series,
                "by_lever": told["by_lever"],
                "counterfactuals": counterfactuals,
                "channels": {_channel_label(k, groups): v for k, v in told["channels"].items()},
                "silent": [_channel_label(k, groups) for k in told["silent"]],
            }
        )
    shown = session.shown_answers
    answers = []
    for answer in session.answers.values():
        if answer_key(answer) not in shown["keys"]:
            continue
        answers.append(_answer_entry(session, answer, groups, with_name=shown["names"]))
    return {
        "title": session.deck.deck.title,
        "rounds_played": max((len(o.log) for o in session.orgs), default=0),
        "rounds": session.rounds,
        **names,
        "legend": {"actual": ACTUAL},
        "orgs": orgs,
        "answers": answers,
        "questions": list(session.deck.deck.debrief),
    }


def _channel_label(key: str, groups: dict[str, str]) -> str:
    a, _, b = key.partition("->")
    return f"{groups.get(a, a)} → {groups.get(b, b)}"


def answer_key(answer: dict[str, Any]) -> str:
    """How the facilitator names one answer when choosing which to show: seat/round/prompt."""
    return f"{answer['seat']}/{answer['round']}/{answer['prompt']}"


def _answer_entry(session: Any, answer: dict[str, Any], groups: dict[str, str], with_name: bool) -> dict[str, Any]:
    prompts = session.deck.groups[answer["group"]].timeout
    entry = {
        "key": answer_key(answer),
        "round": answer["round"],
        "org": answer["org"],
        "group": answer["group"],
        "group_name": groups[answer["group"]],
        "prompt": prompts[answer["prompt"]] if answer["prompt"] < len(prompts) else "",
        "text": answer["text"],
    }
    if with_name:
        entry["name"] = answer["name"]
    return entry


def archive(session: Any, summary: dict[str, Any]) -> dict[str, Any]:
    """For the facilitator and the exports: the story with every answer and its author, and the
    messages with their texts and senders."""
    told = story(session, summary)
    groups = told["groups"]
    told["answers"] = [_answer_entry(session, a, groups, with_name=True) for a in session.answers.values()]
    shown = session.shown_answers
    for entry in told["answers"]:
        entry["shown"] = entry["key"] in shown["keys"]
    told["messages"] = [
        {
            "org": org.index,
            "round": m["round"],
            "name": m["name"],
            "from": m["from"],
            "to": m["to"],
            "from_name": groups[m["from"]],
            "to_name": groups[m["to"]],
            "text": m["text"],
            "request": (m.get("label", "") if m["request"] else f"withdrawn: {m.get('label', '')}") if "request" in m else "",
            "at": m["at"],
        }
        for org in session.orgs
        for m in org.messages
    ]
    told["changes"] = [dict(c, org=o["org"]) for o in summary["orgs"] for c in o["changes"]]
    told["shifts"] = [dict(s, org=o["org"]) for o in summary["orgs"] for s in o["shifts"]]
    told["answers_shown_with_names"] = shown["names"]
    return told


def granted_words(share: float) -> str:
    """How much of the asked group granted a request, in words for all or none."""
    if share >= 1:
        return "granted"
    return "not granted" if share <= 0 else f"granted by {share:.0%} of them"
