"""A journal written by an earlier version of the server still replays, to the same state and views.

``tests/fixtures/journal-2026-11.sqlite`` was written at commit 1f26207 by a short real
session over the real server: two organisations, ten joins (one moved, one kicked, one made a
bot), the lobby locked and unlocked, an inject, an extension, messages, choices, a pause, a
round resolved, a pattern switch, a time-out with answers (one changed), the brief of round 2,
and a final pause (so a restored server arms no timer). ``journal-2026-11.views.json`` holds
what that version's views said about the replayed session.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from game.core.deck import GROUPS
from game.core.session import clock_view, debrief, facilitator_view, group_view, personal, progress, replay
from server.hub import Hub
from server.journal import Journal
from tests.wsclient import facilitator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
JOURNAL = FIXTURES / "journal-2026-11.sqlite"
VIEWS = FIXTURES / "journal-2026-11.views.json"


def replayed(path: Path):
    journal = Journal(path)
    events = journal.latest_session()
    journal.close()
    return replay(events)


def as_json(value):
    return json.loads(json.dumps(value))


@pytest.fixture
def copy(tmp_path) -> Path:
    target = tmp_path / "journal.sqlite"
    shutil.copyfile(JOURNAL, target)
    return target


def test_the_journal_replays_to_the_state_it_recorded(copy):
    session = replayed(copy)
    assert (session.id, session.code, session.deck.id) == ("afa3c8565d591477", "HXKM4P", "interlodge")
    assert (session.phase, session.round, session.version, session.timeout_from) == ("brief", 2, 42, "reveal")
    assert session.paused and session.deadline is None and session.remaining == pytest.approx(59.9985, abs=1e-3)
    assert not session.locked
    seats = {s.id: (s.name, s.org, s.group, s.bot, s.kicked) for s in session.seats.values()}
    assert seats == {
        "p1": ("Ana", 0, "bottom", False, False),
        "p2": ("Ben", 1, "bottom", False, False),
        "p3": ("Cy", 0, "top", False, False),
        "p4": ("Di", 1, "top", False, False),
        "p5": ("Eve", 0, "middle", False, False),
        "p6": ("Fay", 1, "middle", False, False),
        "p7": ("Gus", 0, "customer", False, False),
        "p8": ("Hal", 1, "customer", True, False),
        "p9": ("Ivo", 0, "bottom", False, True),
        "p10": ("Jo", 1, "customer", False, False),
    }
    assert [list(o.members) for o in session.orgs] == [["p1", "p3", "p5", "p7"], ["p2", "p4", "p6", "p8", "p10"]]
    assert [(a["seat"], a["round"], a["prompt"], a["text"]) for a in session.answers.values()] == [
        ("p3", 1, 0, "We only saw the dashboards."),
        ("p7", 1, 1, "Nobody told us."),
    ]
    first, second = session.orgs
    assert (first.pattern, first.patterns_used, first.card) == ("desk_voice", ["silos"], "training-day")
    assert (second.pattern, second.patterns_used, second.card) == ("silos", ["silos"], "training-day")
    assert dict(first.state.metrics) == {
        "satisfaction": 49.0,
        "margin": 47.0,
        "refunds": 20.0,
        "faults": 31.0,
        "engagement": 54.0,
        "considerateness": 60.0,
    }
    assert dict(second.state.metrics) == {
        "satisfaction": 45.5,
        "margin": 50.5,
        "refunds": 22.5,
        "faults": 39.0,
        "engagement": 49.0,
        "considerateness": 60.0,
    }
    assert second.log[0].injects == ("boiler-failure",) and second.injects == []
    assert second.log[0].choices["customer"] == ("review", "accept"), "the bot's pick and the mover's"
    assert [len(o.messages) for o in session.orgs] == [1, 1]


# What views gained after the fixture was written: the organisation's structure as players change
# it, and requests. Everything else must read exactly as it did then.
ADDED_TO_GROUP_VIEWS = ("requests", "askable", "shifts", "notices")
ADDED_TO_STRUCTURE = ("heard_by", "listens_to", "earned")
ADDED_TO_ORGS = ("requests", "open", "shifts", "choice_counts", "explanations", "earned", "notices")
# ...and, for the facilitator, this round's answers, what each inject does, and who was removed;
# for each seat, what it is told about its seat; for the debrief, its story
ADDED_TO_FACILITATOR = ("inject_previews", "groups", "answers", "answered", "removed")
ADDED_TO_PERSONAL = ("note",)
ADDED_TO_DEBRIEF = ("story",)


def as_it_was(view, added):
    return {k: v for k, v in view.items() if k not in added}


def test_the_replayed_session_shows_the_views_it_showed_then(copy):
    session = replayed(copy)
    expected = json.loads(VIEWS.read_text())
    for org in range(len(session.orgs)):
        for group in GROUPS:
            view = as_json(group_view(session, org, group))
            assert view["requests"] == [], "nobody asked for anything in this journal"
            assert view["pattern"]["earned"] == 0, "nor changed the structure"
            view["pattern"] = as_it_was(view["pattern"], ADDED_TO_STRUCTURE)
            assert as_it_was(view, ADDED_TO_GROUP_VIEWS) == expected["groups"][f"{org}/{group}"], (org, group)
    for seat_id, seat in session.seats.items():
        you = as_json(personal(session, seat))
        assert bool(you["note"]) == seat.bot, "a seat handed to a bot is told so"
        assert as_it_was(you, ADDED_TO_PERSONAL) == expected["personal"][seat_id]
    fview = as_json(facilitator_view(session, frozenset({"p1", "p3"}), {"p2": 1763895000.5}))
    assert all(o["shifts"] == [] and o["open"] for o in fview["orgs"])
    assert fview["answered"] == {"answered": 0, "of": 8}, "nobody has answered in round 2 yet"
    assert fview["removed"] == [{"seat": "p9", "name": "Ivo"}]
    fview["orgs"] = [as_it_was(o, ADDED_TO_ORGS) for o in fview["orgs"]]
    assert as_it_was(fview, ADDED_TO_FACILITATOR) == expected["facilitator"]
    summary = as_it_was(as_json(debrief(session)), ADDED_TO_DEBRIEF)
    summary["orgs"] = [as_it_was(o, ADDED_TO_ORGS) for o in summary["orgs"]]
    assert summary == expected["debrief"]
    assert [progress(session, org) for org in range(len(session.orgs))] == expected["progress"]
    assert as_json(clock_view(session)) == expected["clock"]


async def test_a_server_started_on_the_journal_restores_the_session(copy):
    hub = Hub(copy.parent, flush_interval=0.05)
    await hub.start("127.0.0.1", 0)
    try:
        assert hub.session is not None and hub.session.code == "HXKM4P"
        assert (hub.session.phase, hub.session.round, hub.session.paused) == ("brief", 2, True)
        fac = await facilitator(f"ws://127.0.0.1:{hub.port}", hub.secret)
        welcome = fac.received[0]
        assert welcome["session"] == "HXKM4P"
        fview = (await fac.until(lambda m: m["type"] == "facilitator_view"))["view"]
        expected = json.loads(VIEWS.read_text())["facilitator"]
        for org in expected["orgs"]:
            for seat in org["seats"]:
                seat["connected"], seat["last_seen"] = False, None
        fview["orgs"] = [as_it_was(o, ADDED_TO_ORGS) for o in fview["orgs"]]
        assert as_it_was(fview, ADDED_TO_FACILITATOR) == expected
        assert (await fac.request({"type": "resume"}))["type"] == "ack"
        assert (await fac.request({"type": "advance"}))["type"] == "ack"
        assert (hub.session.phase, hub.session.round) == ("talk", 2)
        await fac.close()
    finally:
        await hub.close()
