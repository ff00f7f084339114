"""Views: what each seat, group and the facilitator may see, computed here and nowhere else.

A group never receives a metric its deck hides from it (until the debrief, which shows the
whole system to everyone). Views are JSON-ready dicts, encoded once per group by the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from game.core.deck import GROUPS
from game.core.messages import Clock, GroupView, Personal, Progress
from game.core.session.debrief import change_view, debrief, requests_view, shift_view
from game.core.session.inputs import request_shares
from game.core.session.phases import TIMED_PHASES
from game.core.session.state import Seat, Session


def progress(session: Session, org: int) -> Progress:
    seats = [s for s in session.active_seats(org) if not s.bot and (session.orgs[org].card, s.group) in session.book.options]
    return {"chosen": sum(1 for s in seats if s.id in session.orgs[org].choices), "of": len(seats)}


def clock_fields(session: Session) -> dict[str, Any]:
    duration = session.duration(session.phase) if session.phase in TIMED_PHASES else 0
    return {"deadline": session.deadline, "paused": session.paused, "remaining": session.remaining, "duration": duration}


def clock_view(session: Session) -> Clock:
    """Phase, round and timer: what a timer change alters in every view."""
    return {"phase": session.phase, "round": session.round, **clock_fields(session)}


def group_view(session: Session, org_index: int, group: str) -> GroupView:
    """Everything the players of ``group`` in organisation ``org_index`` may see. Shared by
    all of them, so the server encodes it once per group."""
    _, view = next(iter_group_views(session, [(org_index, group)]))
    return view


def iter_group_views(session: Session, wanted: Iterable[tuple[int, str]]) -> Iterator[tuple[tuple[int, str], GroupView]]:
    """The views of several groups, one at a time, so that the first can be on its way while
    the rest are built. What groups share (the session's clock, an organisation's roster,
    metrics and changes, the debrief) is computed once for all."""
    ended = session.phase in ("debrief", "ended")
    head = {
        "code": session.code,
        "title": session.deck.deck.title,
        "phase": session.phase,
        "round": session.round,
        "rounds": session.rounds,
        "orgs": len(session.orgs),
        **clock_fields(session),
    }
    shared: dict[int, dict[str, Any]] = {}
    summary = room_debrief(debrief(session)) if ended else None
    for org_index, group in wanted:
        if org_index not in shared:
            shared[org_index] = _org_shared(session, org_index)
        view = _group_view(session, org_index, group, head, shared[org_index])
        if summary is not None:
            view["debrief"] = summary
        yield (org_index, group), view


def room_debrief(summary: dict[str, Any]) -> dict[str, Any]:
    """The debrief as the room sees it: the time-out answers are only those the facilitator
    chose to show, with names only if the facilitator showed them (the story says which)."""
    shown = summary["story"]["answers"]
    keys = {a["key"] for a in shown}
    with_names = all("name" in a for a in shown)
    answers = []
    for a in summary["answers"]:
        if f"{a['seat']}/{a['round']}/{a['prompt']}" in keys:
            answers.append(a if with_names else {k: v for k, v in a.items() if k not in ("name", "seat")})
    return {**summary, "answers": answers}


def notices(session: Session, org_index: int, group: str | None) -> list[dict[str, Any]]:
    """What the room is told has landed in an organisation: each inject fired for the coming
    resolution, and, while its results are shown, those of the round just resolved. An inject
    meant for one group is told to that group alone (``group=None``: every inject)."""
    org = session.orgs[org_index]
    fired = list(org.injects)
    resolved = session.phase in ("reveal", "timeout") and len(org.log) == session.round
    if resolved:
        fired = list(org.log[-1].injects) + fired
    out = []
    by_id = {i.id: i for i in session.deck.injects}
    for n, inject_id in enumerate(fired):
        inject = by_id.get(inject_id)
        if inject is None or (group is not None and inject.group and inject.group != group):
            continue
        landed = resolved and n < len(org.log[-1].injects)
        # the round whose resolution it changes: fired after a round was resolved, it waits for the next
        lands = session.round if landed or not resolved else session.round + 1
        out.append(
            {
                "kind": "inject",
                "id": inject.id,
                "label": inject.label,
                "text": inject.text,
                "group": inject.group,
                "status": "landed" if landed else "pending",  # pending: it applies when round `round` is resolved
                "round": lands,
            }
        )
    return out


def _org_shared(session: Session, org_index: int) -> dict[str, Any]:
    org = session.orgs[org_index]
    changes = session.phase in ("reveal", "timeout") or (session.phase in ("brief", "talk", "choose") and session.round > 1)
    return {
        "roster": roster(session, org_index),
        "progress": progress(session, org_index),
        "metrics": {
            name: {
                "label": m.label,
                "value": round(org.state.metrics[name], 3),
                "start": m.start,
                "bounds": list(m.bounds),
                "better": m.better,
                "trend": [round(h[name], 3) for h in org.history],
            }
            for name, m in session.deck.metrics.items()
        },
        "changes": [(c.metric, change_view(session, c)) for c in org.last_changes] if changes else None,
        "requests": open_requests(session, org_index),
        "shifts": [shift_view(session, s) for s in org.state.shifts if s.round == session.round] if changes else None,
    }


def open_requests(session: Session, org_index: int) -> list[dict[str, Any]]:
    """This round's requests in an organisation, with who asked; after the round is resolved,
    with how much of the asked group granted each."""
    org = session.orgs[org_index]
    if session.phase in ("reveal", "timeout") and len(org.log) == session.round:
        return requests_view(session, org_index, [session.round])
    if session.phase not in ("talk", "choose") or not org.requests:
        return []
    names: dict[tuple[str, str, str], list[str]] = {}
    groups = {s.id: s.group for s in session.active_seats(org_index)}
    for (who, asked), option in org.requests.items():
        group = who[4:] if who.startswith("bot:") else groups.get(who)
        if group is not None:
            seat = session.seats.get(who)
            names.setdefault((group, asked, option), []).append(seat.name if seat else "")
    labels = {o.id: o.label for o in session.book.cards[org.card].options} if org.card in session.book.cards else {}
    return [
        {
            "from": a,
            "to": b,
            "option": o,
            "label": labels.get(o, o),
            "share": round(share, 3),
            "names": sorted(n for n in names[(a, b, o)] if n),
        }
        for (a, b, o), share in request_shares(session, org).items()
    ]


def _group_view(session: Session, org_index: int, group: str, head: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    org = session.orgs[org_index]
    visible = _visible(session, org_index, group)
    view: dict[str, Any] = {
        "session": head,
        "org": org_index,
        "group": group,
        **_static_group(session, group),
        "pattern": _plenary(session, org_index, group) if session.phase == "debrief" else _structure(session, org_index, group),
        "roster": shared["roster"],
        "metrics": {name: entry for name, entry in shared["metrics"].items() if name in visible},
        "progress": shared["progress"],
        "messages": [m for m in org.messages if m["to"] == group or m["from"] == group][-50:],
        "prompts": list(session.deck.groups[group].timeout) if session.phase == "timeout" else [],
    }
    if org.card and session.phase != "lobby":
        card = _static_card(session, org.card, group)
        if card is not None:
            view["card"] = card
        if session.phase in ("talk", "choose"):
            view["askable"] = _askable(session, org_index, group)
    view["requests"] = [r for r in shared["requests"] if group in (r["from"], r["to"])]
    view["notices"] = notices(session, org_index, group)
    if shared["changes"] is not None:
        view["changes"] = [change for metric, change in shared["changes"] if metric in visible]
        view["shifts"] = shared["shifts"]
    return view


# Views are rebuilt for every group at every phase change; what depends on the deck alone is
# built once per session. The parts are shared between views, which are encoded and sent,
# never changed.


def _visible(session: Session, org_index: int, group: str) -> frozenset[str]:
    if session.phase in ("debrief", "ended"):
        return frozenset(session.deck.metrics)
    return session.orgs[org_index].state.structure.visible(group)


def _static_group(session: Session, group: str) -> dict[str, Any]:
    key = ("group", group)
    if key not in session.static:
        deck = session.deck
        session.static[key] = {
            "group_name": deck.groups[group].name,
            "brief": deck.groups[group].brief,
            "groups": {g: deck.groups[g].name for g in GROUPS},
        }
    return session.static[key]


def _structure(session: Session, org_index: int, group: str) -> dict[str, Any]:
    """The organisation's current structure as ``group`` lives it: the facilitator's pattern it
    started from, who it can reach and hear, and who listens to it. The pattern and the shifts
    so far decide it, so it is built once for each of them."""
    org = session.orgs[org_index]
    state = org.state
    key = ("structure", org.pattern, str(len(state.shifts)), str(org_index), group)
    if key not in session.static:
        pattern = session.deck.patterns[org.pattern]
        structure = state.structure
        opened = structure.open
        session.static[key] = {
            "id": org.pattern,
            "label": pattern.label or org.pattern,
            "description": pattern.description,
            "talk_to": sorted(b for a, b in opened if a == group),
            "hear_from": sorted(a for a, b in opened if b == group),
            "closed_to": sorted(g for g in GROUPS if g != group and (group, g) not in opened),
            # how much each other group acts on what this group says, and this group on theirs
            "heard_by": {g: round(structure.listens.get((g, group), 0.0), 3) for g in GROUPS if g != group},
            "listens_to": {g: round(structure.listens.get((group, g), 0.0), 3) for g in GROUPS if g != group},
            "earned": len(state.shifts),  # structural changes the organisation has made so far
        }
    return session.static[key]


def _askable(session: Session, org_index: int, group: str) -> dict[str, list[dict[str, str]]]:
    """The options ``group`` may ask another group for this round: those of every group its
    current structure lets it reach."""
    org = session.orgs[org_index]
    out = {}
    for target in org.state.structure.talks_to(group):
        offered = [o for o in session.book.cards[org.card].options if o.group == target] if org.card in session.book.cards else []
        if offered:
            out[target] = [{"id": o.id, "label": o.label} for o in offered]
    return out


def _plenary(session: Session, org_index: int, group: str) -> dict[str, Any]:
    """The structure in the debrief: a plenary, every channel open to every group."""
    others = [g for g in GROUPS if g != group]
    return {**_structure(session, org_index, group), "talk_to": others, "hear_from": others, "closed_to": [], "plenary": True}


def _static_card(session: Session, card_id: str, group: str) -> dict[str, Any] | None:
    key = ("card", card_id, group)
    if key not in session.static:
        card = session.book.cards.get(card_id)
        session.static[key] = (
            None
            if card is None
            else {
                "id": card.id,
                "title": card.title or card.id,
                "text": [card.text[k] for k in ("all", group) if k in card.text],
                "options": [
                    {"id": o.id, "label": o.label, "description": o.description, "default": o.default}
                    for o in card.options
                    if o.group == group
                ],
            }
        )
    return session.static[key]


def roster(session: Session, org_index: int) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {g: [] for g in GROUPS}
    for seat in session.active_seats(org_index):
        names[seat.group].append(seat.name)
    return {g: sorted(n) for g, n in names.items()}


def seat_view(session: Session, seat: Seat) -> GroupView:
    """The group view plus what belongs to this seat alone."""
    view = group_view(session, seat.org, seat.group)
    view["you"] = personal(session, seat)
    return view


def seat_note(session: Session, seat: Seat) -> str:
    """What a participant is told about their seat, when something was done to it."""
    if seat.bot:
        return "A bot is playing your seat for now: the facilitator handed it over when you had not chosen in time."
    if seat.reclaimed == session.round and session.round:
        return "You have your seat back: what you choose counts again."
    return ""


def personal(session: Session, seat: Seat) -> Personal:
    return {
        "note": seat_note(session, seat),
        "seat": seat.id,
        "name": seat.name,
        "org": seat.org,
        "group": seat.group,
        "bot": seat.bot,
        "choice": session.orgs[seat.org].choices.get(seat.id),
        "answers": {
            str(prompt): answer["text"]
            for prompt in range(len(session.deck.groups[seat.group].timeout))
            if (answer := session.answers.get((seat.id, session.round, prompt)))
        },
    }
