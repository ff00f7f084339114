"""What the facilitator's console and the room's projector see: everything for the console;
for the projector, counts and labels, and never a name, a message or a metric before the debrief."""

from __future__ import annotations

import re
from typing import Any

from game.core.deck import GROUPS
from game.core.messages import FacilitatorView
from game.core.session.debrief import change_view, debrief, shift_view
from game.core.session.state import Session, is_withdrawal
from game.core.session.views import clock_fields, notices, open_requests, progress
from game.core.story import archive


def facilitator_view(
    session: Session, connected: set[str] | frozenset[str] = frozenset(), last_seen: dict[str, float] | None = None
) -> FacilitatorView:
    """Everything, for the facilitator's console."""
    deck = session.deck
    last_seen = last_seen or {}
    revealed = session.phase in ("reveal", "timeout")
    orgs = []
    for org in session.orgs:
        seats = [
            {
                "seat": s.id,
                "name": s.name,
                "group": s.group,
                "bot": s.bot,
                "connected": s.id in connected,
                "chosen": s.id in org.choices,
                "last_seen": last_seen.get(s.id),
            }
            for s in session.active_seats(org.index)
        ]
        orgs.append(
            {
                "org": org.index,
                "pattern": org.pattern,
                "card": org.card,
                "metrics": {m: round(v, 3) for m, v in org.state.metrics.items()},
                "history": [{m: round(v, 3) for m, v in h.items()} for h in org.history],
                "seats": sorted(seats, key=lambda s: (GROUPS.index(s["group"]), s["name"])),
                "progress": progress(session, org.index),
                "injects_pending": list(org.injects),
                "messages": sum(1 for m in org.messages if not is_withdrawal(m)),
                "requests": open_requests(session, org.index),
                "open": sorted(f"{a}->{b}" for a, b in org.state.structure.open),
                "shifts": [shift_view(session, s) for s in org.state.shifts],
                "choice_counts": choice_counts(session, org.index),
                # this round's results with their explanations, while the room sees them
                "explanations": [change_view(session, c) for c in org.last_changes] if revealed else [],
                "earned": [shift_view(session, s) for s in org.state.shifts if s.round == session.round] if revealed else [],
                "notices": notices(session, org.index, None),
            }
        )
    view = {
        "session": {
            "id": session.id,
            "code": session.code,
            "title": deck.deck.title,
            "deck": deck.id,
            "phase": session.phase,
            "round": session.round,
            "rounds": session.rounds,
            "locked": session.locked,
            **clock_fields(session),
        },
        "patterns": {n: p.label or n for n, p in deck.patterns.items()},
        "injects": [{"id": i.id, "label": i.label, "group": i.group} for i in deck.injects],
        "metrics": {n: m.label for n, m in deck.metrics.items()},
        "orgs": orgs,
        "inject_previews": [inject_preview(session, i.id) for i in deck.injects],
        "groups": {g: deck.groups[g].name for g in GROUPS},
        "answers": [a for a in session.answers.values() if a["round"] == session.round],
        "answered": answered(session),
        "removed": [
            {"seat": seat, "name": session.seats[seat].name} for seat in dict.fromkeys(session.barred.values()) if seat in session.seats
        ],
    }
    if session.phase in ("debrief", "ended"):
        summary = view["debrief"] = debrief(session)
        view["archive"] = archive(session, summary)  # names, messages and every answer: for the exports
    return view


def choice_counts(session: Session, org_index: int) -> dict[str, list[dict[str, Any]]]:
    """This round's choices in an organisation, counted per group and option (no names)."""
    org = session.orgs[org_index]
    counts: dict[tuple[str, str], int] = {}
    for seat_id, option in org.choices.items():
        seat = session.seats.get(seat_id)
        if seat is not None:
            counts[(seat.group, option)] = counts.get((seat.group, option), 0) + 1
    out: dict[str, list[dict[str, Any]]] = {}
    for (group, option), n in sorted(counts.items(), key=lambda kv: (GROUPS.index(kv[0][0]), -kv[1], kv[0][1])):
        out.setdefault(group, []).append({"option": option, "label": session.option_label(org.card, group, option), "count": n})
    return out


def answered(session: Session) -> dict[str, int]:
    """How many of the seats with prompts have answered at least one this round (a seat handed
    to a bot counts once its person answers)."""
    done = {seat for seat, r, _ in session.answers if r == session.round}
    seats = [s for s in session.active_seats() if session.deck.groups[s.group].timeout and (not s.bot or s.id in done)]
    return {"answered": sum(1 for s in seats if s.id in done), "of": len(seats)}


def readable(session: Session, expression: str) -> str:
    """A deck expression with metric names in the deck's words ("faults > 30" reads
    "Open room faults > 30"), for a facilitator rather than a deck author."""
    names = {m: session.deck.metrics[m].label for m in session.deck.metrics}
    words = re.sub(r"\b[a-z_][a-z0-9_]*\b", lambda found: names.get(found.group(0), found.group(0)), expression)
    return re.sub(r" else ", ", else ", words)


def inject_preview(session: Session, inject_id: str) -> dict[str, Any]:
    """What an inject does, for the facilitator to read before firing it."""
    inject = next(i for i in session.deck.injects if i.id == inject_id)
    effects = []
    for metric, amount in inject.effects.items():
        label = session.deck.metrics[metric].label if metric in session.deck.metrics else metric
        effects.append(f"{label} {amount:+g}" if isinstance(amount, int | float) else f"{label}: {readable(session, str(amount))}")
    return {
        "id": inject.id,
        "label": inject.label,
        "text": inject.text,
        "told": session.deck.groups[inject.group].name if inject.group else "everyone",
        "effects": effects,
        "lever": inject.lever,
        "explain": inject.explain,
    }


def projector_view(session: Session) -> dict[str, Any]:
    """What a projector shows the room: the join code, the phase and timer, how many have
    joined, chosen and answered, and each organisation's pattern; after the last round, the
    story. Never a participant's name, a message or a metric before the debrief."""
    ended = session.phase in ("debrief", "ended")
    seats = session.active_seats()  # a seat a bot plays for now still has its person in the room
    chosen = [progress(session, org.index) for org in session.orgs]
    view: dict[str, Any] = {
        "session": {
            "code": session.code,
            "title": session.deck.deck.title,
            "phase": session.phase,
            "round": session.round,
            "rounds": session.rounds,
            "locked": session.locked,
            **clock_fields(session),
        },
        "joined": len(seats),
        "progress": {"chosen": sum(p["chosen"] for p in chosen), "of": sum(p["of"] for p in chosen)},
        "answered": answered(session) if session.phase == "timeout" else None,
        "orgs": [
            {"org": org.index, "label": f"Organisation {org.index + 1}", "pattern": _pattern_label(session, org.pattern)}
            for org in session.orgs
        ],
    }
    if ended:
        told = debrief(session)["story"]
        told["answers"] = [{k: v for k, v in a.items() if k != "name"} for a in told["answers"]]
        view["story"] = told
    return view


def _pattern_label(session: Session, pattern: str) -> str:
    return session.deck.patterns[pattern].label or pattern
