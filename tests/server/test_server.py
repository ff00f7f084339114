"""The session server over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc

import orjson
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from game.core.deck import GROUPS
from game.core.engine import replay
from game.core.rulebook import Rulebook
from game.core.session.events import ChoiceMade, MessageSent, SeatJoined, SessionCreated, from_record, to_record
from server.hub import Hub
from server.journal import Journal
from tests.wsclient import Client, facilitator, join, rejoin


def base(hub: Hub) -> str:
    return f"ws://127.0.0.1:{hub.port}"


async def new_session(hub: Hub, **options) -> tuple[Client, str]:
    fac = await facilitator(base(hub), hub.secret)
    ack = await fac.request({"type": "create_session", "deck": "interlodge", **options})
    assert ack["type"] == "ack", ack
    return fac, ack["code"]


async def four_players(hub: Hub, code: str, org: int = 0) -> dict[str, Client]:
    """Join until organisation ``org`` has one player in each group; return those four."""
    players = {}
    for i in range(4 * len(hub.session.orgs)):
        client = await join(base(hub), code, f"Player {i}")
        if client.you["org"] == org:
            players[client.you["group"]] = client
    assert set(players) == set(GROUPS), "balancing gives one seat to each group first"
    return players


async def room_in_choose(hub: Hub, **options) -> tuple[Client, str, dict[str, Client]]:
    """A session with one player in each group, in the choose phase of round 1."""
    fac, code = await new_session(hub, **options)
    players = await four_players(hub, code)
    await fac.request({"type": "start"})
    await advance(fac, hub, "talk")
    await advance(fac, hub, "choose")
    return fac, code, players


def phase_view(phase: str):
    return lambda m: m["type"] == "view" and m["view"]["session"]["phase"] == phase


async def advance(fac: Client, hub: Hub, to: str) -> None:
    answer = await fac.request({"type": "advance"})
    assert answer["type"] == "ack", answer
    assert hub.session.phase == to


async def play_round(
    fac: Client, hub: Hub, players: dict[str, Client], pick=lambda view: view["card"]["options"][-1]["id"], talk=None
) -> None:
    await advance(fac, hub, "talk")
    if talk:
        await talk()
    await advance(fac, hub, "choose")
    for client in players.values():
        await client.until(lambda m: m["type"] == "view" and m["view"]["session"]["phase"] == "choose")
        if client.view.get("card", {}).get("options"):
            answer = await client.request({"type": "choose", "round": hub.session.round, "option": pick(client.view)})
            assert answer["type"] == "ack", answer
    await advance(fac, hub, "reveal")


async def test_a_whole_game_through_the_server(hub):
    fac, code = await new_session(hub, orgs=1, patterns=["desk_voice"], seed=7)
    assert len(code) == 6 and not set(code) & set("0O1IL2Z5S8B")
    players = await four_players(hub, code)
    assert (await fac.request({"type": "start"}))["type"] == "ack"
    for r in range(1, 7):
        assert hub.session.round == r and hub.session.phase == "brief"
        bottom = players["bottom"]
        await bottom.until(lambda m, r=r: m["type"] == "view" and m["view"]["session"]["round"] == r)

        async def talk(r=r, bottom=bottom):
            if r > 1:
                answer = await bottom.request({"type": "say", "to": "middle", "text": f"Room faults, round {r}"})
                assert answer["type"] == "ack", answer

        await play_round(fac, hub, players, talk=talk)
        if r < 6:
            await advance(fac, hub, "brief")
    await advance(fac, hub, "debrief")
    for client in players.values():
        msg = await client.until(lambda m: m["type"] == "view" and m["view"]["session"]["phase"] == "debrief")
        debrief = msg["view"]["debrief"]
        assert set(debrief["orgs"][0]["metrics"]) == set(hub.session.deck.metrics)
        assert debrief["orgs"][0]["channels"]["bottom->middle"] == 5
        assert "bottom->top" in debrief["orgs"][0]["silent"] or debrief["orgs"][0]["channels"].get("bottom->top")
        assert debrief["orgs"][0]["counterfactuals"], "the debrief offers a counterfactual"
    # the server's state equals a replay of what it journalled
    org = hub.session.orgs[0]
    book = Rulebook(hub.session.deck)
    assert replay(book, org.state.seed, "desk_voice", org.log) == org.state
    assert (await fac.request({"type": "end"}))["type"] == "ack"
    with pytest.raises(ConnectionClosed) as closed:
        await players["top"].until(lambda m: False)
    assert closed.value.rcvd.code == 4003


async def test_bots_fill_groups_nobody_plays_and_defaults_stand(hub):
    fac, code = await new_session(hub, orgs=2, patterns=["silos", "desk_voice"], seed=3, bots="random")
    solo = await join(base(hub), code, "Solo")
    await fac.request({"type": "start"})
    await play_round(fac, hub, {"x": solo})
    for org in hub.session.orgs:
        inputs = org.log[0]
        assert set(inputs.choices) == {"top", "middle", "bottom", "customer"}
        assert all(len(p) == 1 for p in inputs.choices.values())


async def test_reconnect_mid_round_returns_to_the_same_seat(hub):
    fac, code, players = await room_in_choose(hub, seed=1)
    bottom = players["bottom"]
    await bottom.until(phase_view("choose"))
    option = bottom.view["card"]["options"][0]["id"]
    await bottom.request({"type": "choose", "round": 1, "option": option})
    await bottom.close()
    again = await rejoin(base(hub), bottom.token)
    assert again.you["seat"] == bottom.seat and again.you["choice"] == option
    assert again.view["session"]["phase"] == "choose"
    # change of mind until the deadline
    other = again.view["card"]["options"][1]["id"]
    assert (await again.request({"type": "choose", "round": 1, "option": other}))["type"] == "ack"
    assert again.you["choice"] == other


async def test_a_second_connection_with_the_same_token_replaces_the_first(hub):
    fac, code = await new_session(hub)
    first = await join(base(hub), code, "Ana")
    second = await rejoin(base(hub), first.token)
    with pytest.raises(ConnectionClosed) as closed:
        await first.until(lambda m: False)
    assert closed.value.rcvd.code == 4002
    assert (await second.request({"type": "ping"}))["type"] == "pong"


async def test_duplicate_names_and_wrong_codes_are_refused_politely(hub):
    fac, code = await new_session(hub)
    await join(base(hub), code, "Ana")
    client = await Client.open(f"{base(hub)}/v1/join")
    await client.until(lambda m: m["type"] == "welcome")
    taken = await client.request({"type": "join", "code": code, "name": " ana "})
    assert taken["code"] == "name_taken" and ("Ana" in taken["message"] or "ana" in taken["message"])
    wrong = await client.request({"type": "join", "code": "XXXXXX", "name": "Bo"})
    assert wrong["code"] == "bad_code"
    ok = await client.request({"type": "join", "code": code.lower(), "name": "Bo"})
    assert ok["type"] == "joined"


async def test_markup_and_control_characters_in_names_and_chat(hub):
    fac, code = await new_session(hub, patterns=["desk_voice"])
    players = await four_players(hub, code)
    evil = await join(base(hub), code, "[bold red]X\x1b[31m\u202eY")
    assert evil.you["name"] == "[bold red]X[31mY"
    await fac.request({"type": "start"})
    await advance(fac, hub, "talk")
    sender = players["bottom"]
    answer = await sender.request({"type": "say", "to": "middle", "text": "[link=http://x]hi[/link]\x07\x1b]0;pwn\x07"})
    assert answer["type"] == "ack"
    msg = await players["middle"].until(lambda m: m["type"] == "message")
    assert msg["message"]["text"] == "[link=http://x]hi[/link]]0;pwn"


async def test_lobby_lock_kick_move_and_botify(hub):
    fac, code = await new_session(hub, orgs=2)
    a = await join(base(hub), code, "Ana")
    b = await join(base(hub), code, "Ben")
    assert {a.you["org"], b.you["org"]} == {0, 1}
    assert (await fac.request({"type": "lock"}))["type"] == "ack"
    c = await Client.open(f"{base(hub)}/v1/join")
    await c.until(lambda m: m["type"] == "welcome")
    assert (await c.request({"type": "join", "code": code, "name": "Cy"}))["code"] == "lobby_locked"
    await fac.request({"type": "unlock"})
    assert (await fac.request({"type": "move", "seat": b.seat, "org": 0, "group": "customer"}))["type"] == "ack"
    await b.until(lambda m: m["type"] == "you" and m["you"]["group"] == "customer")
    assert (await fac.request({"type": "botify", "seat": b.seat}))["type"] == "ack"
    assert hub.session.seats[b.seat].bot
    assert (await fac.request({"type": "kick", "seat": a.seat}))["type"] == "ack"
    with pytest.raises(ConnectionClosed) as closed:
        await a.until(lambda m: False)
    assert closed.value.rcvd.code == 4001
    with pytest.raises(InvalidStatus) as refused:
        await Client.open(f"{base(hub)}/v1/seat", a.token)
    assert refused.value.response.status_code == 401


async def test_pause_resume_extend_timeout_inject_and_pattern_switch(hub):
    fac, code = await new_session(hub, orgs=2, patterns=["silos"])
    players = await four_players(hub, code)
    await fac.request({"type": "start"})
    deadline = hub.session.deadline
    assert deadline is not None
    assert (await fac.request({"type": "extend", "seconds": 60}))["type"] == "ack"
    assert hub.session.deadline == pytest.approx(deadline + 60)
    assert (await fac.request({"type": "pause"}))["type"] == "ack"
    assert hub.session.paused and hub.session.remaining > 60
    assert (await fac.request({"type": "pause"}))["code"] == "wrong_phase"
    assert (await fac.request({"type": "resume"}))["type"] == "ack"
    assert (await fac.request({"type": "inject", "inject": "boiler-failure", "org": 1}))["type"] == "ack"
    assert hub.session.orgs[1].injects == ["boiler-failure"] and hub.session.orgs[0].injects == []
    assert (await fac.request({"type": "set_pattern", "org": 1, "pattern": "desk_voice"}))["code"] == "wrong_phase"
    await play_round(fac, hub, players)
    assert any(c.kind == "inject" for c in hub.session.orgs[1].state.history)
    assert (await fac.request({"type": "set_pattern", "org": 1, "pattern": "desk_voice"}))["type"] == "ack"
    assert (await fac.request({"type": "call_timeout"}))["type"] == "ack"
    top = players["top"]
    view = (await top.until(lambda m: m["type"] == "view" and m["view"]["session"]["phase"] == "timeout"))["view"]
    assert view["prompts"]
    assert (await top.request({"type": "answer", "prompt": 0, "text": "We only saw dashboards."}))["type"] == "ack"
    assert top.you["answers"] == {"0": "We only saw dashboards."}
    await advance(fac, hub, "brief")
    assert hub.session.round == 2 and hub.session.orgs[1].pattern == "desk_voice"


async def test_the_timer_advances_the_phase_and_defaults_stand(hub, tmp_path):
    toml = (hub.session and "") or open("decks/interlodge.toml").read().replace("choose = 90", "choose = 1")
    fac = await facilitator(base(hub), hub.secret)
    ack = await fac.request({"type": "create_session", "deck_toml": toml, "seed": 5})
    assert ack["type"] == "ack", ack
    p = await join(base(hub), ack["code"], "Ana")
    await fac.request({"type": "start"})
    await fac.request({"type": "advance"})
    await fac.request({"type": "advance"})
    assert hub.session.phase == "choose"
    await p.until(lambda m: m["type"] == "view" and m["view"]["session"]["phase"] == "reveal", timeout=5)
    assert hub.session.orgs[0].log[0].choices["top"] == ("restructure",), "the default stands for a player who did not choose"


async def test_early_close_advances_when_everyone_has_chosen(hub):
    fac, code, players = await room_in_choose(hub, early_close=True)
    for client in players.values():
        await client.until(lambda m: m["type"] == "view" and m["view"]["session"]["phase"] == "choose")
        await client.request({"type": "choose", "round": 1, "option": client.view["card"]["options"][0]["id"]})
    await players["top"].until(lambda m: m["type"] == "view" and m["view"]["session"]["phase"] == "reveal")


async def test_progress_is_coalesced(tmp_path):
    hub = Hub(tmp_path / "d", flush_interval=0.5)
    await hub.start("127.0.0.1", 0)
    try:
        fac, code = await new_session(hub, orgs=1)
        players = [await join(base(hub), code, f"P{i}") for i in range(12)]
        await fac.request({"type": "start"})
        await fac.request({"type": "advance"})
        await fac.request({"type": "advance"})
        watcher = players[0]
        for p in players:
            await p.until(phase_view("choose"))
        await watcher.drain(0.2)
        before = len([m for m in watcher.received if m["type"] == "progress"])
        await asyncio.gather(
            *(p.request({"type": "choose", "round": 1, "option": p.view["card"]["options"][0]["id"]}) for p in players[1:])
        )
        await asyncio.sleep(0.6)
        await watcher.drain(0.2)
        updates = [m for m in watcher.received if m["type"] == "progress"][before:]
        assert 1 <= len(updates) <= 3, updates
        assert updates[-1]["chosen"] == 11 and updates[-1]["of"] == 12
    finally:
        await hub.close()


async def test_progress_waits_for_a_lull_in_a_storm_of_inputs_but_never_long(tmp_path):
    # Acknowledgements come first: while choices pour in, the coalesced progress counts are
    # held back, but for no more than four ticks.
    hub = Hub(tmp_path / "d", flush_interval=0.5, frame_rate=1000, frame_burst=1000)
    await hub.start("127.0.0.1", 0)
    try:
        fac, code = await new_session(hub, orgs=1)
        players = [await join(base(hub), code, f"P{i}") for i in range(12)]
        await fac.request({"type": "start"})
        await advance(fac, hub, "talk")
        await advance(fac, hub, "choose")
        watcher, others = players[0], players[1:]
        for p in players:
            await p.until(phase_view("choose"))
        loop = asyncio.get_running_loop()
        seen: list[tuple[float, dict]] = []

        async def watch() -> None:
            while True:
                message = await watcher.next(30)
                seen.append((loop.time(), message))

        reader = asyncio.create_task(watch())
        start = loop.time()
        k = 0
        while loop.time() - start < 4.0:  # without the hold-back: a progress update every 0.5 s
            k += 1
            answers = await asyncio.gather(
                *(p.request({"type": "choose", "round": 1, "option": p.view["card"]["options"][k % 2]["id"]}) for p in others)
            )
            assert all(a["type"] == "ack" for a in answers), answers
            await asyncio.sleep(0.005)
        stop = loop.time()
        await asyncio.sleep(0.8)
        reader.cancel()
        # the storm's first half second is left out: a flush may have been due as it began
        during = [t - start for t, m in seen if m["type"] == "progress" and start + 0.5 < t <= stop]
        after = [m for t, m in seen if m["type"] == "progress" and t > stop]
        assert 1 <= len(during) <= 3, during
        assert after and after[-1]["chosen"] == 11, "the lull brings the count up to date"
    finally:
        await hub.close()


async def test_the_heap_is_settled_as_each_round_starts_and_released_at_the_end(hub):
    fac, code = await new_session(hub)
    await fac.request({"type": "start"})
    assert gc.get_freeze_count() > 0, "the lobby's objects are out of the collector's way"
    await fac.request({"type": "end"})
    assert gc.get_freeze_count() == 0


def test_a_commit_group_is_journalled_in_order_and_exactly(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    tricky = ["plain", 'quote " and backslash \\', "line\nbreak\ttab", "é 漢字 🎲", "\u0000 nul", "[1, 2]", ""]
    events = [MessageSent(f"p{i}", 0, "bottom", "middle", text, 1, 1763895000.123456 + i, "Ana") for i, text in enumerate(tricky)]
    assert journal.append("s1", events[:3]) == 3
    assert journal.append("s1", events[3:]) == len(tricky) - 3
    assert journal.append("s1", []) == 0
    journal.append("s2", [SessionCreated("s2", "ABCDEF", "", "x.toml", ["silos"], 1)])
    journal.close()
    again = Journal(tmp_path / "j.sqlite")
    rows = again.db.execute("SELECT type, data FROM events WHERE session = 's1' ORDER BY seq").fetchall()
    again.close()
    assert [(kind, orjson.loads(data)) for kind, data in rows] == [to_record(e) for e in events]
    assert [from_record(kind, orjson.loads(data)) for kind, data in rows] == events
    assert rows[0][1] == (
        '{"seat":"p0","org":0,"sender":"bottom","to":"middle","text":"plain","round":1,"at":1763895000.123456,"name":"Ana"}'
    ), "the journal's data format, as earlier versions wrote it"


async def test_every_accepted_input_is_in_the_journal_before_the_ack(hub):
    fac, code, players = await room_in_choose(hub)
    bottom = players["bottom"]
    await bottom.request({"type": "choose", "round": 1, "option": "voucher"})
    journal = Journal(hub.journal.path)  # a second, independent reader
    events = journal.latest_session()
    journal.close()
    assert isinstance(events[-1], ChoiceMade) and events[-1].option == "voucher"
    assert [type(e) for e in events].count(SeatJoined) == 4


async def test_restart_replays_the_journal(tmp_path):
    hub = Hub(tmp_path / "d")
    await hub.start("127.0.0.1", 0)
    fac, code, players = await room_in_choose(hub, seed=11)
    await players["top"].request({"type": "choose", "round": 1, "option": "rotate_managers"})
    deadline = hub.session.deadline
    await hub.close()
    again = Hub(tmp_path / "d")
    await again.start("127.0.0.1", 0)
    try:
        assert again.session.code == code and again.session.phase == "choose"
        assert again.session.deadline == deadline, "timers are re-armed at their original deadlines"
        top = await rejoin(base(again), players["top"].token)
        assert top.you["choice"] == "rotate_managers"
    finally:
        await again.close()


async def test_a_removed_person_stays_out_under_another_name_from_the_same_device_across_a_restart(tmp_path):
    from game.client.link import RequestRefused, join_session

    hub = Hub(tmp_path / "d")
    await hub.start("127.0.0.1", 0)
    fac, code = await new_session(hub, orgs=1)
    device = "this-laptop-" + "x" * 12
    ana = await join_session(base(hub), code, "Ana", device=device)
    assert hub.session.seats[ana["seat"]].device_key, "the device is kept, as a hash"
    assert device not in hub.session.seats[ana["seat"]].device_key
    assert (await fac.request({"type": "kick", "seat": ana["seat"]}))["type"] == "ack"
    with pytest.raises(RequestRefused) as refused:
        await join_session(base(hub), code, "Not Ana", device=device)
    assert refused.value.code == "removed"
    with pytest.raises(RequestRefused) as short:
        await join_session(base(hub), code, "Cy", device="short")
    assert short.value.code == "bad_field" and "device" in short.value.message
    await hub.close()

    again = Hub(tmp_path / "d")
    await again.start("127.0.0.1", 0)
    try:
        with pytest.raises(RequestRefused) as still:
            await join_session(base(again), code, "Still Not Ana", device=device)
        assert still.value.code == "removed", "the bar survives a restart"
        assert (await join_session(base(again), code, "Ben", device="another-machine-" + "y" * 8))["seat"]
        fac = await facilitator(base(again), again.secret)
        assert (await fac.request({"type": "admit", "seat": ana["seat"]}))["type"] == "ack"
        assert (await join_session(base(again), code, "Ana", device=device))["seat"]
    finally:
        await again.close()


async def test_a_client_joins_a_server_older_than_its_device_field_without_it():
    """A stand-in for a server from before the device field: it refuses the key as the strict
    converter did, and the client joins again without it."""
    from websockets.asyncio.server import serve

    from game.client.link import join_session

    joins: list[dict] = []

    async def older(ws):
        await ws.send(orjson.dumps({"type": "welcome", "protocol": 1}).decode())
        async for frame in ws:
            join = orjson.loads(frame)
            joins.append(join)
            if "device" in join:
                error = 'join: device: unknown key "device"; allowed here: code, name, join_id'
                await ws.send(orjson.dumps({"type": "error", "code": "bad_field", "message": error, "ref": join["id"]}).decode())
            else:
                await ws.send(orjson.dumps({"type": "joined", "seat": "p1", "token": "t", "ref": join["id"]}).decode())

    async with serve(older, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        joined = await join_session(f"ws://127.0.0.1:{port}", "ABC234", "Ana", device="d" * 24)
    assert joined["seat"] == "p1"
    assert [("device" in j) for j in joins] == [True, False]
    assert joins[0]["join_id"] == joins[1]["join_id"], "the same join, so a retry cannot make a second seat"
