"""The projector's path: the room's screen gets the projector view alone, for every bundled deck:
never a participant's name or message, and no metric before the debrief."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import InvalidStatus

from game.deckfiles import bundled_decks
from tests.server.test_server import base
from tests.wsclient import Client, facilitator, join

NAMES = ["Xavirel Qond", "Ubeline Vorsk", "Taddeo Wimbrel", "Sorrel Yaxley", "Quenby Zarth"]
SECRET = "plumquartz"  # a word only messages and answers hold


async def projector(hub, token: str) -> Client:
    client = await Client.open(f"{base(hub)}/v1/projector", token)
    await client.until(lambda m: m["type"] == "welcome")
    return client


@pytest.mark.parametrize("deck", sorted(bundled_decks()))
async def test_the_projector_never_receives_a_name_a_message_or_a_metric_before_the_debrief(hub, deck):
    fac = await facilitator(base(hub), hub.secret)
    ack = await fac.request({"type": "create_session", "deck": deck, "orgs": 2, "seed": 5})
    assert ack["type"] == "ack", ack
    screen = await projector(hub, hub.projector_token)
    players = [await join(base(hub), ack["code"], name) for name in NAMES]
    for p in players:
        await p.request({"type": "say", "text": f"hello from the lobby {SECRET}"})
    assert (await fac.request({"type": "start"}))["type"] == "ack"
    session = hub.session
    while session.phase != "debrief":
        if session.phase in ("talk", "choose"):
            for p in players:
                seat = session.seats[p.seat]
                if session.phase != "talk":
                    continue
                to = next((b for a, b in sorted(session.orgs[seat.org].state.structure.open) if a == seat.group), seat.group)
                await p.request({"type": "say", "text": f"{SECRET} to {to}", "to": to})
        if session.phase == "choose":
            for p in players:
                seat = session.seats[p.seat]
                options = sorted(session.book.options.get((session.orgs[seat.org].card, seat.group), {}))
                if options:
                    assert (await p.request({"type": "choose", "round": session.round, "option": options[-1]}))["type"] == "ack"
            await screen.until(lambda m: m["type"] == "projector_view" and m["view"]["progress"]["chosen"] == m["view"]["progress"]["of"])
        if session.phase == "reveal" and session.round == 1:
            assert (await fac.request({"type": "call_timeout"}))["type"] == "ack"
            for p in players:
                if session.deck.groups[session.seats[p.seat].group].timeout:
                    assert (await p.request({"type": "answer", "prompt": 0, "text": f"{SECRET} answer"}))["type"] == "ack"
        assert (await fac.request({"type": "advance"}))["type"] == "ack"
        await screen.drain(0.1)
    keys = [f"{seat}/{r}/{p}" for seat, r, p in session.answers]
    assert keys, "someone answered"
    # the facilitator shows every answer to the room, names included: the projector still gets none
    assert (await fac.request({"type": "show_answers", "answers": keys, "names": True}))["type"] == "ack"
    await screen.drain(0.3)

    frames = [json.dumps(m, ensure_ascii=False) for m in screen.received]
    everything = "\n".join(frames)
    for name in NAMES:
        assert name not in everything, f"{deck}: the projector received the name {name!r}"
    assert SECRET not in everything.replace(f"{SECRET} answer", ""), f"{deck}: the projector received a message"
    views = [m["view"] for m in screen.received if m["type"] == "projector_view"]
    before = [v for v in views if v["session"]["phase"] not in ("debrief", "ended")]
    assert before and views[-1]["session"]["phase"] == "debrief"
    for view in before:
        text = json.dumps(view, ensure_ascii=False)
        assert "story" not in view and "metrics" not in text
        for metric_id, metric in session.deck.metrics.items():
            assert f'"{metric_id}"' not in text and metric.label not in text, f"{deck}: {metric_id} shown early"
    told = views[-1]["story"]
    assert [a["text"] for a in told["answers"]] == [f"{SECRET} answer"] * len(keys), "answers the facilitator shows, without names"
    assert all("name" not in a and "seat" not in a for a in told["answers"])
    chosen = [v["progress"] for v in before if v["session"]["phase"] == "choose"]
    assert any(p["chosen"] == p["of"] > 0 for p in chosen), "progress: everyone has chosen"
    for client in (fac, screen, *players):
        await client.close()


async def test_the_projector_needs_its_token_or_the_facilitators_secret(hub):
    with pytest.raises(InvalidStatus) as refused:
        await Client.open(f"{base(hub)}/v1/projector", "not-the-token")
    assert refused.value.response.status_code == 401
    screen = await projector(hub, hub.secret)
    assert screen.received[0]["role"] == "projector"
    assert (hub.projector_path.stat().st_mode & 0o777) == 0o600 and hub.projector_token != hub.secret
    pong = await screen.request({"type": "ping"})
    assert pong["type"] == "pong"
    await screen.ws.send(json.dumps({"type": "advance", "id": 1}))
    refused_frame = await screen.until(lambda m: m.get("type") == "error")
    assert refused_frame["code"] == "unknown_type", "a projector can do nothing but watch"
    await screen.close()
