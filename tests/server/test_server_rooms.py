"""A server for real rooms: several sessions, joins from behind one address, every frame
answered, storage faults that never freeze a room, bounds on connections, private files and
clear seat rules. Real sockets on 127.0.0.1, real SQLite files."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from game.core.session.events import SeatReclaimed
from server.auth import client_address, parse_proxies
from server.hub import Hub
from server.journal import Journal
from tests.server.test_server import advance, base, four_players, new_session, phase_view, room_in_choose
from tests.wsclient import Client, facilitator, join, rejoin


async def started(path, **options) -> Hub:
    hub = Hub(path, flush_interval=0.05, **options)
    await hub.start("127.0.0.1", 0)
    return hub


async def until_true(check, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        assert loop.time() < end, "the condition never came true"
        await asyncio.sleep(0.02)


def short_choose_deck() -> str:
    return open("decks/interlodge.toml").read().replace("choose = 90", "choose = 1")


# --- several sessions ------------------------------------------------------------------------


async def test_several_sessions_each_reached_by_its_code_alone(tmp_path):
    hub = await started(tmp_path / "d")
    try:
        fac = await facilitator(base(hub), hub.secret)
        assert fac.received[0]["session"] is None and fac.received[0]["sessions"] == []
        first = await fac.request({"type": "create_session", "deck": "interlodge", "seed": 1})
        second = await fac.request({"type": "create_session", "deck": "interlodge", "seed": 2, "orgs": 2})
        assert first["code"] != second["code"]
        ana = await join(base(hub), first["code"], "Ana")
        ben = await join(base(hub), second["code"], "Ana")  # the same name in another session is no clash
        assert hub.sessions[first["code"]].seats[ana.seat].name == "Ana"
        assert hub.sessions[second["code"]].seats[ben.seat].name == "Ana"
        listed = (await fac.request({"type": "list_sessions"}))["sessions"]
        assert [s["code"] for s in listed] == [first["code"], second["code"]]
        assert [s["orgs"] for s in listed] == [1, 2] and all(s["seats"] == 1 for s in listed)
        # the console has the newest session open; commands go there only
        assert (await fac.request({"type": "start"}))["type"] == "ack"
        assert hub.sessions[second["code"]].phase == "brief" and hub.sessions[first["code"]].phase == "lobby"
        await ben.until(phase_view("brief"))
        opened = await fac.request({"type": "open_session", "code": first["code"].lower()})
        assert opened["type"] == "ack" and opened["code"] == first["code"]
        view = await fac.until(lambda m: m["type"] == "facilitator_view")
        assert view["view"]["session"]["code"] == first["code"]
        assert (await fac.request({"type": "lock"}))["type"] == "ack"
        assert hub.sessions[first["code"]].locked and not hub.sessions[second["code"]].locked
        assert not any(m["type"] == "view" and m["view"]["session"]["phase"] == "brief" for m in ana.received)
        # a second facilitator connection opens the newest running session
        other = await facilitator(base(hub), hub.secret)
        assert other.received[0]["session"] == second["code"]
        assert (await other.request({"type": "open_session", "code": "QQQQQQ"}))["code"] == "no_session"
    finally:
        await hub.close()


async def test_sessions_are_restored_with_their_timers_and_ended_ones_stay_until_deleted(tmp_path):
    hub = await started(tmp_path / "d")
    fac = await facilitator(base(hub), hub.secret)
    running = await fac.request({"type": "create_session", "deck": "interlodge", "seed": 1})
    ana = await join(base(hub), running["code"], "Ana")
    assert (await fac.request({"type": "start"}))["type"] == "ack"
    deadline = hub.sessions[running["code"]].deadline
    finished = await fac.request({"type": "create_session", "deck": "interlodge", "seed": 2})
    ben = await join(base(hub), finished["code"], "Ben")
    assert (await fac.request({"type": "end"}))["type"] == "ack"
    with pytest.raises(ConnectionClosed) as closed:
        await ben.until(lambda m: False)
    assert closed.value.rcvd.code == 4003
    await hub.close()

    hub = await started(tmp_path / "d")
    try:
        assert list(hub.sessions) == [running["code"], finished["code"]]
        assert hub.sessions[running["code"]].deadline == deadline, "timers are re-armed at their original deadlines"
        assert hub.live[running["code"]].timer.handle is not None
        assert hub.sessions[finished["code"]].phase == "ended"
        back = await rejoin(base(hub), ana.token)
        assert back.view["session"]["code"] == running["code"]
        # a token of an ended session gets the documented close code, not a seat
        late = await Client.open(f"{base(hub)}/v1/seat", ben.token)
        with pytest.raises(ConnectionClosed) as closed:
            await late.until(lambda m: False)
        assert closed.value.rcvd.code == 4003
        # the ended session is still there for the debrief and exports
        fac = await facilitator(base(hub), hub.secret)
        assert fac.received[0]["session"] == running["code"], "the console opens the running session"
        listed = {s["code"]: s for s in fac.received[0]["sessions"]}
        assert listed[finished["code"]]["phase"] == "ended" and listed[finished["code"]]["ended_at"]
        assert (await fac.request({"type": "delete_session", "code": running["code"]}))["code"] == "wrong_phase"
        assert (await fac.request({"type": "open_session", "code": finished["code"]}))["type"] == "ack"
        debrief = await fac.until(lambda m: m["type"] == "facilitator_view")
        assert debrief["view"]["debrief"]["orgs"]
        assert (await fac.request({"type": "delete_session", "code": finished["code"]}))["type"] == "ack"
        assert finished["code"] not in hub.sessions
        assert [s["code"] for s in (await fac.request({"type": "list_sessions"}))["sessions"]] == [running["code"]]
        assert (await fac.request({"type": "start"}))["code"] == "no_session", "the deleted session was the open one"
        with pytest.raises(InvalidStatus) as refused:
            await Client.open(f"{base(hub)}/v1/seat", ben.token)
        assert refused.value.response.status_code == 401
    finally:
        await hub.close()
    journal = Journal(tmp_path / "d" / "journal.sqlite")
    try:
        assert len(journal.session_ids()) == 1
        assert journal.db.execute("SELECT COUNT(*) FROM events WHERE session = ?", (finished["session"],)).fetchone()[0] == 0
    finally:
        journal.close()


async def test_a_facilitator_learns_decks_patterns_and_phases_before_creating(hub):
    fac = await facilitator(base(hub), hub.secret)
    welcome = fac.received[0]
    interlodge = welcome["catalog"]["interlodge"]
    assert set(welcome["decks"]) == set(welcome["catalog"])
    assert "silos" in interlodge["patterns"] and interlodge["default_pattern"] in interlodge["patterns"]
    assert interlodge["phases"]["choose"] == 90 and interlodge["rounds"] == 6
    ack = await fac.request({"type": "create_session", "deck": "interlodge", "patterns": [next(iter(interlodge["patterns"]))]})
    assert ack["type"] == "ack"


# --- joins that suit real networks ----------------------------------------------------------


def test_x_forwarded_for_counts_only_from_a_trusted_proxy():
    proxies = parse_proxies(["10.0.0.0/8", "192.168.1.5"])
    assert client_address("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9", "an untrusted peer cannot name another address"
    assert client_address("10.1.2.3", "1.2.3.4", proxies) == "1.2.3.4"
    assert client_address("10.1.2.3", "6.6.6.6, 1.2.3.4, 192.168.1.5", proxies) == "1.2.3.4", "the client's own entries prove nothing"
    assert client_address("10.1.2.3", "", proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", "garbage", proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", "1.2.3.4", ()) == "10.1.2.3"
    with pytest.raises(ValueError, match="not an IP address"):
        parse_proxies(["proxy.example"])


async def test_behind_a_trusted_proxy_each_client_has_its_own_limit(tmp_path):
    for trusted, second_blocked in ((["127.0.0.1"], False), ([], True)):
        hub = await started(tmp_path / f"d{len(trusted)}", failed_joins_per_minute=1, trusted_proxies=trusted)
        try:
            await new_session(hub)
            guesser = await Client.open(f"{base(hub)}/v1/join", headers={"X-Forwarded-For": "203.0.113.5"})
            await guesser.until(lambda m: m["type"] == "welcome")
            assert (await guesser.request({"type": "join", "code": "XXXXXX", "name": "Eve"}))["code"] == "bad_code"
            assert (await guesser.request({"type": "join", "code": "XXXXXX", "name": "Eve"}))["code"] == "too_many_joins"
            try:
                await Client.open(f"{base(hub)}/v1/join", headers={"X-Forwarded-For": "203.0.113.6"})
                blocked = False
            except InvalidStatus as exc:
                blocked = exc.response.status_code == 429
            assert blocked == second_blocked, trusted
        finally:
            await hub.close()


async def test_a_retried_join_returns_the_same_seat_and_token_even_after_a_restart(tmp_path):
    hub = await started(tmp_path / "d")
    fac, code = await new_session(hub)
    join_id = "a-random-join-id-0123456789"
    first = await Client.open(f"{base(hub)}/v1/join")
    await first.until(lambda m: m["type"] == "welcome")
    await first.ws.send(json.dumps({"type": "join", "code": code, "name": "Ana", "join_id": join_id, "id": 1}))
    await first.close()  # the client never reads its `joined`
    await until_true(lambda: len(hub.session.seats) == 1)
    retry = await Client.open(f"{base(hub)}/v1/join")
    await retry.until(lambda m: m["type"] == "welcome")
    joined = await retry.request({"type": "join", "code": code, "name": "Ana", "join_id": join_id})
    assert joined["type"] == "joined" and len(hub.session.seats) == 1, "no ghost seat"
    await retry.until(lambda m: m["type"] == "you")
    assert hub.live[code].summary()["seats"] == 1
    await hub.close()
    hub = await started(tmp_path / "d")
    try:
        again = await Client.open(f"{base(hub)}/v1/join")
        await again.until(lambda m: m["type"] == "welcome")
        same = await again.request({"type": "join", "code": code, "name": "Ana", "join_id": join_id})
        assert (same["seat"], same["token"]) == (joined["seat"], joined["token"])
        assert len(hub.session.seats) == 1
        assert (await rejoin(base(hub), same["token"])).you["name"] == "Ana"
        other = await Client.open(f"{base(hub)}/v1/join")
        await other.until(lambda m: m["type"] == "welcome")
        short = await other.request({"type": "join", "code": code, "name": "Bo", "join_id": "short"})
        assert short["code"] == "bad_field" and "join_id" in short["message"]
    finally:
        await hub.close()


# --- every frame gets an answer -----------------------------------------------------------


async def test_every_frame_of_a_burst_gets_an_answer_with_its_ref(tmp_path):
    hub = await started(tmp_path / "d", frame_rate=20, frame_burst=40)
    try:
        fac, code = await new_session(hub)
        player = await join(base(hub), code, "Burst")
        start = len(player.received)
        for ref in range(1000, 1060):
            await player.ws.send(json.dumps({"type": "ping", "id": ref}))
        answers: dict[int, list[str]] = {}
        while sum(map(len, answers.values())) < 60:
            msg = await player.next()
            if msg.get("ref") is not None:
                answers.setdefault(msg["ref"], []).append(msg.get("code") or msg["type"])
        assert sorted(answers) == list(range(1000, 1060)), "each frame is answered, by its own ref"
        assert all(len(kinds) == 1 for kinds in answers.values()), "and only once"
        kinds = [kinds[0] for kinds in answers.values()]
        assert kinds.count("pong") >= 39 and "rate_limited" in kinds  # the burst, less the join
        assert set(kinds) == {"pong", "rate_limited"}
        await player.drain(0.2)
        assert not [m for m in player.received[start:] if m["type"] == "error" and m.get("ref") is None]
    finally:
        await hub.close()


async def test_a_flood_is_closed_with_4029_and_its_reason(tmp_path):
    hub = await started(tmp_path / "d", frame_rate=5, frame_burst=5, flood_limit=20)
    try:
        fac, code = await new_session(hub)
        player = await join(base(hub), code, "Flood")
        for ref in range(100):
            await player.ws.send(json.dumps({"type": "ping", "id": ref}))
        refs = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                msg = await player.next()
                refs.append(msg.get("ref"))
        assert closed.value.rcvd.code == 4029 and "flooding" in closed.value.rcvd.reason
        answered = [r for r in refs if r is not None]
        assert answered == list(range(len(answered))), "every frame read before the close was answered, in order"
    finally:
        await hub.close()


# --- storage faults ---------------------------------------------------------------------------


class FailingJournal(Journal):
    """A real journal whose disk can be made to fail, as a full disk does."""

    failing = False

    def append_groups(self, groups):
        if self.failing:
            raise sqlite3.OperationalError("database or disk is full")
        return super().append_groups(groups)

    def probe(self):
        if self.failing:
            raise sqlite3.OperationalError("database or disk is full")
        super().probe()


async def test_a_full_disk_pauses_the_room_rolls_back_and_recovers_by_itself(tmp_path):
    journal = FailingJournal(tmp_path / "d" / "journal.sqlite")
    hub = await started(tmp_path / "d", journal=journal, retry_interval=0.05)
    try:
        fac = await facilitator(base(hub), hub.secret)
        code = (await fac.request({"type": "create_session", "deck_toml": short_choose_deck(), "seed": 5}))["code"]
        players = await four_players(hub, code)
        await fac.request({"type": "start"})
        await advance(fac, hub, "talk")
        journal.failing = True
        bottom, top = players["bottom"], players["top"]
        await bottom.until(phase_view("talk"))
        said = await bottom.request({"type": "say", "text": "this never reaches the disk"})
        assert said["code"] == "unavailable" and "paused" in said["message"]
        assert not hub.session.orgs[0].messages, "what was refused is not kept in memory"
        for client in (top, fac):
            notice = await client.until(lambda m: m["type"] == "notice")
            assert notice["code"] == "storage_fault" and "paused" in notice["message"] and "disk" in notice["message"]
        assert (await fac.request({"type": "advance"}))["code"] == "unavailable"
        assert hub.session.phase == "talk"
        journal.failing = False
        for client in (top, fac):
            assert (await client.until(lambda m: m["type"] == "notice"))["code"] == "storage_ok"
        assert (await bottom.request({"type": "say", "text": "saved now"}))["type"] == "ack"
        await advance(fac, hub, "choose")
        # the timer falls due while the disk is full: the room waits, then goes on by itself
        journal.failing = True
        refused = await top.request({"type": "choose", "round": 1, "option": "restructure"})
        assert refused["code"] == "unavailable" and top.seat not in hub.session.orgs[0].choices
        await until_true(lambda: hub.stats.get("timers_held", 0) >= 1)
        assert hub.session.phase == "choose"
        journal.failing = False
        await top.until(phase_view("reveal"))
        assert hub.session.phase == "reveal"
    finally:
        await hub.close()
    journal = Journal(tmp_path / "d" / "journal.sqlite")
    try:
        kinds = [e.TYPE for e in journal.latest_session()]
        texts = [getattr(e, "text", "") for e in journal.latest_session()]
    finally:
        journal.close()
    assert kinds.count("round_resolved") == 1
    assert "saved now" in texts and "this never reaches the disk" not in texts


def loop_mount_allowed() -> bool:
    return os.geteuid() == 0 and all(shutil.which(tool) for tool in ("mkfs.ext4", "mount", "umount"))


@pytest.mark.skipif(
    not loop_mount_allowed(), reason="mounting a loop filesystem needs root and mkfs.ext4 (the failing journal test runs everywhere)"
)
async def test_a_really_full_disk_on_a_small_loop_mounted_filesystem(tmp_path):
    image, mount = tmp_path / "disk.img", tmp_path / "mnt"
    mount.mkdir()
    with open(image, "wb") as out:
        out.truncate(2 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True, capture_output=True)
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"this machine does not allow loop mounts: {mounted.stderr.decode().strip()}")
    try:
        hub = await started(mount / "data", retry_interval=0.05)
        try:
            fac, code = await new_session(hub)
            player = await join(base(hub), code, "Ana")
            filler = mount / "filler"
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
            try:  # fill the disk to the last byte
                for size in (65536, 4096, 1):
                    try:
                        while os.write(fd, b"x" * size):
                            pass
                    except OSError:
                        pass
            finally:
                os.close(fd)
            answers = []
            for i in range(200):  # until the WAL needs a page the disk does not have
                answer = await fac.request({"type": "extend", "seconds": 1 + i % 5})
                answers.append(answer.get("code") or answer["type"])
                if answers[-1] == "unavailable":
                    break
            assert answers[-1] == "unavailable", answers
            assert (await player.until(lambda m: m["type"] == "notice"))["code"] == "storage_fault"
            filler.unlink()
            assert (await player.until(lambda m: m["type"] == "notice"))["code"] == "storage_ok"
            assert (await fac.request({"type": "lock"}))["type"] == "ack"
        finally:
            await hub.close()
    finally:
        subprocess.run(["umount", str(mount)], check=True)


# --- bounds on connections ------------------------------------------------------------------


async def test_a_connection_that_does_not_join_is_closed(tmp_path):
    hub = await started(tmp_path / "d", join_timeout=0.3)
    try:
        await new_session(hub)
        idle = await Client.open(f"{base(hub)}/v1/join")
        with pytest.raises(ConnectionClosed) as closed:
            await idle.until(lambda m: False, timeout=30)
        assert closed.value.rcvd.code == 4008 and "join" in closed.value.rcvd.reason
    finally:
        await hub.close()


async def test_connections_waiting_to_join_are_capped_per_address(tmp_path):
    hub = await started(tmp_path / "d", pending_per_address=3)
    try:
        fac, code = await new_session(hub)
        waiting = [await Client.open(f"{base(hub)}/v1/join") for _ in range(3)]
        with pytest.raises(InvalidStatus) as refused:
            await Client.open(f"{base(hub)}/v1/join")
        assert refused.value.response.status_code == 429 and b"without having joined" in refused.value.response.body
        await waiting[0].until(lambda m: m["type"] == "welcome")
        assert (await waiting[0].request({"type": "join", "code": code, "name": "Ana"}))["type"] == "joined"
        await waiting[1].close()
        await until_true(lambda: hub.gate.pending.get("127.0.0.1", 0) == 1)
        for i in range(2):  # joined and closed connections no longer count
            assert (await join(base(hub), code, f"P{i}")).seat
    finally:
        await hub.close()


async def test_a_slow_reader_is_dropped_on_the_time_bound_before_the_byte_bound(tmp_path):
    hub = await started(tmp_path / "d", frame_rate=100_000, frame_burst=100_000, write_limit=64 * 1024 * 1024, slow_reader_seconds=0.5)
    try:
        fac, code = await new_session(hub)
        slow = await join(base(hub), code, "Slow")
        fast = await join(base(hub), code, "Fast")
        slow.ws.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        server_side = hub.seat_conns[slow.seat].transport.get_extra_info("socket")
        server_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # as a stalled reader's kernel fills up in the end
        slow.ws.transport.pause_reading()
        await fac.request({"type": "start"})
        for _ in range(2000):
            for _ in range(20):
                await fac.ws.send('{"type": "extend", "seconds": 1}')
            await fac.drain(0.02)
            await fast.drain(0.01)
            if slow.seat not in hub.seat_conns:
                break
        # gone on a time bound (its unsent data, or its unanswered ping), long before 64 MiB
        assert slow.seat not in hub.seat_conns
        assert not hub.stats.get("dropped_slow_bytes")
        assert (await fast.request({"type": "ping"}))["type"] == "pong", "the room goes on"
    finally:
        await hub.close()


# --- private files ----------------------------------------------------------------------------


async def test_the_data_folder_and_every_file_in_it_are_private(tmp_path):
    data = tmp_path / "d"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    old = sqlite3.connect(data / "journal.sqlite")  # a journal left by an earlier version, 0644
    old.close()
    os.chmod(data / "journal.sqlite", 0o644)
    hub = await started(data)
    try:
        fac, code = await new_session(hub)
        await join(base(hub), code, "Ana")
        names = {p.name for p in data.iterdir()}
        assert {"journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm", "facilitator.secret"} <= names
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        for path in data.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        await hub.close()
    fresh = await started(tmp_path / "new" / "folder")
    try:
        assert stat.S_IMODE((tmp_path / "new" / "folder").stat().st_mode) == 0o700
        for path in (tmp_path / "new" / "folder").iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        await fresh.close()


# --- seat rules -------------------------------------------------------------------------------


async def test_a_human_acting_in_a_bot_held_seat_takes_it_back(hub):
    fac, code, players = await room_in_choose(hub)
    top = players["top"]
    assert (await fac.request({"type": "botify", "seat": top.seat}))["type"] == "ack"
    await fac.until(
        lambda m: m["type"] == "facilitator_view" and any(s["seat"] == top.seat and s["bot"] for o in m["view"]["orgs"] for s in o["seats"])
    )
    await top.until(lambda m: m["type"] == "you" and m["you"]["bot"])
    await top.until(phase_view("choose"))
    option = top.view["card"]["options"][0]["id"]
    answer = await top.request({"type": "choose", "round": 1, "option": option})
    assert answer["type"] == "ack" and answer["you"]["bot"] is False and answer["you"]["choice"] == option
    assert not hub.session.seats[top.seat].bot
    events = hub.live[code].log
    assert isinstance(events[-2], SeatReclaimed) and events[-2].seat == top.seat
    await fac.until(
        lambda m: (
            m["type"] == "facilitator_view" and any(s["seat"] == top.seat and not s["bot"] for o in m["view"]["orgs"] for s in o["seats"])
        )
    )
    await advance(fac, hub, "reveal")
    assert hub.session.orgs[0].log[0].choices["top"] == (option,), "the human's choice counts, not the bot's"


async def test_the_debrief_is_a_plenary_every_channel_open(hub):
    fac, code = await new_session(hub, patterns=["silos"])
    players = await four_players(hub, code)
    await fac.request({"type": "start"})
    await advance(fac, hub, "talk")
    bottom = players["bottom"]
    await bottom.until(phase_view("talk"))
    assert bottom.view["pattern"]["closed_to"] and "plenary" not in bottom.view["pattern"]
    assert (await bottom.request({"type": "say", "to": "top", "text": "hello?"}))["code"] == "channel_closed"
    assert (await fac.request({"type": "end"}))["type"] == "ack"
    fac2, code2 = await new_session(hub, patterns=["silos"])
    players = await four_players(hub, code2)
    await fac2.request({"type": "start"})
    for r in range(1, 7):
        await advance(fac2, hub, "talk")
        await advance(fac2, hub, "choose")
        await advance(fac2, hub, "reveal")
        await advance(fac2, hub, "brief" if r < 6 else "debrief")
    bottom = players["bottom"]
    view = (await bottom.until(phase_view("debrief")))["view"]
    assert view["pattern"]["plenary"] is True and view["pattern"]["closed_to"] == []
    assert set(view["pattern"]["talk_to"]) == {"top", "middle", "customer"} == set(view["pattern"]["hear_from"])
    assert (await bottom.request({"type": "say", "to": "top", "text": "what we learned"}))["type"] == "ack"
