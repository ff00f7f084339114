"""The facilitator's kit on screen: the debrief (console and read-only), the projector and the
console's new parts, driven with Pilot, and snapshots of each new screen at 120x40 and 80x24."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList, SelectionList, Static

from game.core.protocol import Advance, Resume
from game.core.session import FACILITATOR, decide, facilitator_view
from game.local.archive import read_session
from game.local.embedded import EmbeddedServer
from game.tui.facilitator.app import FacilitatorApp
from game.tui.facilitator.debrief import DebriefApp
from game.tui.facilitator.dialogs import Confirm, Pick, PickAnswers
from game.tui.facilitator.screens import ConsoleScreen, DebriefScreen
from game.tui.projector.app import ProjectorApp, RoomScreen, StoryScreen, room_join_line
from game.tui.shared.story import MetricChart, StoryView
from tests.server.test_server import base
from tests.tuihelp import plain, screen_text, wait_for, widget_text
from tests.wsclient import facilitator, join

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
UNTIMED = str(Path(__file__).resolve().parent.parent / "decks" / "untimed.toml")
SIZES = [(120, 40), (80, 24)]


def finished_session(tmp_path):
    """The recorded session of the fixture journal, played on to its debrief by the facilitator."""
    data = tmp_path / "journal-data"
    data.mkdir(exist_ok=True)
    shutil.copyfile(FIXTURES / "journal-2026-11.sqlite", data / "journal.sqlite")
    session = read_session(data)
    now = 1_795_700_000.0
    for command in [Resume()] + [Advance()] * 40:
        if session.phase == "debrief":
            break
        now += 1
        for event in decide(session, FACILITATOR, command, now):
            session.apply(event)
    assert session.phase == "debrief"
    return session


def debrief_app(tmp_path) -> DebriefApp:
    view = facilitator_view(finished_session(tmp_path))
    return DebriefApp(view["debrief"], view["archive"], code="HXKM4P", export_dir=tmp_path / "exports")


async def test_the_read_only_debrief_tells_the_story_and_exports_it(tmp_path):
    app = debrief_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DebriefScreen) and app.screen.query(StoryView))
        story = app.screen.query_one(StoryView)
        titles = story.section_titles()
        assert titles[0] == "What another structure would have done", "the counterfactual first"
        assert "Guest satisfaction over the rounds" in titles and "Round by round: choices and requests" in titles
        assert len(app.screen.query(MetricChart)) == 6, "a textual-plotext chart per metric"
        text = screen_text(app, width=120)
        assert "Organisation 1 (Silos then Desk voice)" in text
        assert "what happened / the same choices" in text
        assert "Executives chose" in text and "desk_voice" not in text
        assert "read-only" in text and " x  export" in text
        await pilot.press("escape")
        assert isinstance(app.screen, DebriefScreen), "nothing to go back to"
        await pilot.press("x")
        await wait_for(pilot, lambda: (tmp_path / "exports" / "crossroads-HXKM4P" / "report.md").exists(), what="export")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_debrief_screen(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DebriefScreen))
        await pilot.pause(0.3)

    assert snap_compare(debrief_app(tmp_path), terminal_size=size, run_before=run_before)


# --- the projector -----------------------------------------------------------------------------


def test_the_join_line_names_the_network_address_when_the_url_is_loopback():
    assert room_join_line("127.0.0.1:8765", "ABCDEF", ["192.0.2.2"]) == ["crossroads join 192.0.2.2:8765 --code ABCDEF"]
    assert room_join_line("ws://10.0.0.9:9000", "ABCDEF", ["192.0.2.2"]) == ["crossroads join 10.0.0.9:9000 --code ABCDEF"]


async def test_the_room_is_offered_only_addresses_the_server_answers_on(hub):
    from game.client.addresses import reachable

    # the hub listens on 127.0.0.1 alone: 127.0.0.2, another address of this machine, refuses
    assert await reachable(["127.0.0.2", "127.0.0.1"], hub.port) == ["127.0.0.1"]
    fac = await facilitator(base(hub), hub.secret)
    assert (await fac.request({"type": "create_session", "deck_toml": Path(UNTIMED).read_text()}))["type"] == "ack"
    screen = ProjectorApp(base(hub), hub.projector_token)  # the addresses as a facilitator's machine has them
    async with screen.run_test(size=(120, 40)) as pilot:
        checking = lambda: [w for w in screen.workers if w.group == "addresses" and not w.is_finished]  # noqa: E731
        await wait_for(pilot, lambda: screen.view and not checking(), timeout=10, what="the addresses checked")
        await wait_for(pilot, lambda: "crossroads join" in screen_text(screen), what="the join line")
        shown = [line.split()[2] for line in screen_text(screen).splitlines() if line.strip().startswith("crossroads join")]
        assert shown, screen_text(screen)
        for address in shown:
            host, port = address.rsplit(":", 1)
            assert await reachable([host], int(port)) == [host], f"the room is told {address}, where nothing answers"


async def test_the_projector_shows_the_room_then_pages_the_debrief(hub):

    fac = await facilitator(base(hub), hub.secret)
    ack = await fac.request({"type": "create_session", "deck_toml": Path(UNTIMED).read_text(), "orgs": 2})
    code = ack["code"]
    screen = ProjectorApp(base(hub), hub.projector_token, addresses=["192.0.2.2"])
    async with screen.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: screen.view, what="projector view")
        players = [await join(base(hub), code, name) for name in ("Ana", "Ben", "Cy", "Di")]
        await wait_for(pilot, lambda: screen.view["joined"] == 4)
        await pilot.pause(0.2)
        text = screen_text(screen)
        assert "crossroads join 192.0.2.2:" in text and code in text and "4 have joined" in text
        assert "Ana" not in text
        await fac.request({"type": "start"})
        for _ in range(2):
            await fac.request({"type": "advance"})
        await wait_for(pilot, lambda: screen.view["session"]["phase"] == "choose")
        await wait_for(pilot, lambda: "0 of 4 have chosen" in screen_text(screen), what="progress")
        while hub.session.phase != "debrief":
            await fac.request({"type": "advance"})
        await wait_for(pilot, lambda: isinstance(screen.screen, StoryScreen) and screen.screen.query(StoryView), what="the story")
        story = screen.screen.query_one(StoryView)
        await pilot.pause(0.2)
        assert story.page == 0 and "What another structure would have done" in screen_text(screen)
        await pilot.press("right")
        await wait_for(pilot, lambda: story.page == 1)
        await pilot.pause(0.1)
        assert "Where each organisation ended" in screen_text(screen)
        await pilot.press("left", "left")
        await wait_for(pilot, lambda: story.page == len(story.parts) - 1, what="paging wraps round")
        for p in (*players, fac):
            await p.close()


def projector_on(tmp_path, phase_steps: int):
    """A projector app beside an embedded server whose session is ``phase_steps`` phases in."""

    async def run_before(pilot):
        server = pilot.app.server_for_test
        await server.start()
        hub = server.hub

        fac = await facilitator(base(hub), hub.secret)
        await fac.request({"type": "create_session", "deck_toml": Path(UNTIMED).read_text(), "orgs": 2, "seed": 1})
        for name in ("Ana", "Ben", "Cy", "Di", "Eve"):
            await join(base(hub), "TEST34", name)
        if phase_steps:
            await fac.request({"type": "start"})
        for _ in range(max(0, phase_steps - 1)):
            if hub.session.phase == "debrief":
                break
            await fac.request({"type": "advance"})
        pilot.app.url, pilot.app.token = server.url, hub.projector_token
        pilot.app.run_link()
        want = "debrief" if phase_steps > 20 else None
        await wait_for(pilot, lambda: pilot.app.view and (want is None or pilot.app.view["session"]["phase"] == want), timeout=15)
        await pilot.pause(0.5)

    app = ProjectorApp("127.0.0.1:1", "", join=["192.0.2.2:8765"])  # the server's port is random
    app.server_for_test = EmbeddedServer(tmp_path / "p", code_factory=lambda: "TEST34")
    app.run_link = _deferred(app.run_link)
    return app, run_before


def _deferred(run_link):
    """The projector connects once the test's server is up (its first call, from on_mount, waits)."""
    calls = []

    def later():
        calls.append(1)
        if len(calls) > 1:
            run_link()

    return later


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_projector_room_screen(snap_compare, tmp_path, size):
    app, run_before = projector_on(tmp_path, 0)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_projector_debrief_screen(snap_compare, tmp_path, size):
    app, run_before = projector_on(tmp_path, 99)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


# --- the console ---------------------------------------------------------------------------------


def console(tmp_path, join_address="192.168.1.20:8765") -> FacilitatorApp:
    return FacilitatorApp(
        "",
        "",
        join_address=join_address,
        create={"deck_toml": Path(UNTIMED).read_text(), "orgs": 2, "patterns": ["silos", "desk_voice"], "seed": 1},
        server=EmbeddedServer(tmp_path / "host", code_factory=lambda: "TEST34"),
        clock=lambda: "10:00:00",
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_console_with_every_key_on_show(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await wait_for(pilot, lambda: pilot.app.view, timeout=15)
        await pilot.pause(0.3)

    assert snap_compare(console(tmp_path), terminal_size=size, run_before=run_before)


async def test_the_console_warns_when_it_can_offer_only_loopback(tmp_path):
    app = console(tmp_path, join_address=["127.0.0.1:8765"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view, timeout=15)
        text = screen_text(app)
        assert "crossroads join 127.0.0.1:8765 --code TEST34" in text and "Only this machine can use that address" in text
    app = console(tmp_path / "b", join_address=["192.0.2.2:8765", "10.1.2.3:8765"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view, timeout=15)
        text = screen_text(app)
        assert "crossroads join 192.0.2.2:8765" in text and "crossroads join 10.1.2.3:8765" in text
        assert "Only this machine" not in text


async def test_the_console_shows_choices_explanations_answers_and_aims_injects(tmp_path):
    app = FacilitatorApp(
        "",
        "",
        join_address="192.0.2.2:8765",
        create={"deck": "interlodge", "orgs": 2, "patterns": ["silos", "desk_voice"], "seed": 3},
        server=EmbeddedServer(tmp_path / "host", code_factory=lambda: "TEST34", flush_interval=0.05),
        clock=lambda: "10:00:00",
    )
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.view, timeout=15)
        hub = app.server.hub
        players = {name: await join(base(hub), "TEST34", name) for name in ("Ana", "Ben", "Cy", "Di", "Eve", "Fay")}
        roster = app.screen.query_one("#roster", DataTable)
        await wait_for(pilot, lambda: roster.row_count == 6)
        await pilot.press("s")
        await wait_for(pilot, lambda: hub.session.phase == "brief")

        # an inject for organisation 2 alone, previewed before it fires
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, Pick))
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, Pick) and "which organisation" in app.screen.title_text and app.screen.query("#pick")
        )
        app.screen.query_one("#pick", OptionList).highlighted = 2  # organisation 2
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        inject = hub.session.deck.injects[0]
        assert f"Fire “{inject.label}” for organisation 2?" in app.screen.question and "next resolution" in app.screen.question
        await pilot.press("y")
        await wait_for(pilot, lambda: hub.session.orgs[1].injects == [inject.id] and hub.session.orgs[0].injects == [])
        log = "\n".join(line.plain for line in app.events)
        assert f"Inject “{inject.label}” fired for organisation 2" in log
        told = [p for p in players.values() if p.you["org"] == 1 and (not inject.group or p.you["group"] == inject.group)]
        for p in told:
            await p.until(lambda m: m["type"] == "view" and m["view"]["notices"])
            assert p.view["notices"][0]["label"] == inject.label

        await pilot.press("n", "n")
        await wait_for(pilot, lambda: hub.session.phase == "choose")
        chooser = next(p for p in players.values() if (hub.session.orgs[p.you["org"]].card, p.you["group"]) in hub.session.book.options)
        org = hub.session.orgs[chooser.you["org"]]
        option = sorted(hub.session.book.options[(org.card, chooser.you["group"])])[0]
        await chooser.request({"type": "choose", "round": 1, "option": option})
        label = hub.session.option_label(org.card, chooser.you["group"], option)
        await wait_for(pilot, lambda: f"{label} 1" in screen_text(app, width=160), what="the choice counted")
        assert chooser.you["name"] not in screen_text(app, width=160).split(label)[0].splitlines()[-1]

        # stalled seats to bots: the log names them and they are told
        await pilot.press("b")
        await wait_for(pilot, lambda: any("Handed to bots:" in line.plain for line in app.events))
        stalled = [p for p in players.values() if p is not chooser and hub.session.seats[p.seat].bot]
        assert stalled and all(p.you["name"] in app.events[-1].plain for p in stalled[:1])
        await stalled[0].until(lambda m: m["type"] == "you" and m["you"]["note"])

        await pilot.press("n")
        await wait_for(pilot, lambda: hub.session.phase == "reveal")
        explain = next(c.explain for c in hub.session.orgs[1].last_changes if c.explain)
        await wait_for(pilot, lambda: explain[:40] in screen_text(app, width=400), what="the reveal's explanations")

        await pilot.press("t")
        await wait_for(pilot, lambda: hub.session.phase == "timeout")
        writer = next(p for p in players.values() if hub.session.deck.groups[p.you["group"]].timeout)
        await writer.request({"type": "answer", "prompt": 0, "text": "We never heard the desk."})
        await wait_for(pilot, lambda: "We never heard the desk." in screen_text(app, width=400), what="the answer")
        humans = sum(1 for s in hub.session.active_seats() if not s.bot)  # the seats handed to bots answer nothing
        assert f"1 of {humans} answered" in screen_text(app, width=400)
        assert any("We never heard the desk." in line.plain and writer.you["name"] in line.plain for line in app.events)

        # the roster highlight follows the person after a move
        roster.focus()
        roster.move_cursor(row=3)
        seat = roster.coordinate_to_cell_key(roster.cursor_coordinate).row_key.value
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, Pick) and app.screen.query("#pick"))
        app.screen.query_one("#pick", OptionList).highlighted = 0  # organisation 1, Tops
        await pilot.press("enter")
        await wait_for(pilot, lambda: (hub.session.seats[seat].org, hub.session.seats[seat].group) == (0, "top"))
        await wait_for(pilot, lambda: roster.get_row_index(seat) != 3, what="the row moved")
        await wait_for(pilot, lambda: roster.coordinate_to_cell_key(roster.cursor_coordinate).row_key.value == seat, what="follows")
        name = hub.session.seats[seat].name
        assert any(f"Moved {name} from org" in line.plain and "to org 1, Tops" in line.plain for line in app.events)

        # a removed participant cannot come back with the code until readmitted
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: hub.session.seats[seat].kicked)
        from tests.wsclient import Client

        again = await Client.open(f"{base(hub)}/v1/join")
        refused = await again.request({"type": "join", "code": "TEST34", "name": name})
        assert refused["type"] == "error" and refused["code"] == "removed"
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, Pick))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not hub.session.barred)
        welcome = await again.request({"type": "join", "code": "TEST34", "name": name})
        assert welcome["type"] == "joined"
        await again.close()

        # on to the debrief: the facilitator picks the answers the room sees
        while hub.session.phase != "debrief":
            await pilot.press("n")
            await pilot.pause(0.05)
        await wait_for(pilot, lambda: "archive" in app.view)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DebriefScreen))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, PickAnswers) and app.screen.query(SelectionList))
        app.screen.query_one(SelectionList).select_all()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(hub.session.shown_answers["keys"]) == 1 and not hub.session.shown_answers["names"])
        await writer.until(lambda m: m["type"] == "view" and m["view"].get("debrief", {}).get("answers"))
        assert "name" not in writer.view["debrief"]["answers"][0]
        for p in players.values():
            await p.close()
    assert plain("x")


async def test_the_debrief_widget_for_participants_shows_the_story(tmp_path):
    """The shared StoryView, as the participant app can mount it: the sections of the story."""
    summary = facilitator_view(finished_session(tmp_path))["debrief"]
    from textual.app import App

    class One(App[None]):
        def compose(self):
            yield StoryView(summary["story"], paged=True)

    app = One()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(StoryView)
        await pilot.pause(0.2)
        assert "1 of" in plain(app.query_one("#story-page-title", Static).content)
        for _ in range(3):
            view.focus()
            await pilot.press("right")
        await wait_for(pilot, lambda: view.page == 3)
        assert len(app.query(MetricChart)) == 1, "the chart page draws its metric"
    assert isinstance(RoomScreen, type) and isinstance(ConsoleScreen, type)


async def test_the_projector_shows_the_browser_address_and_its_qr_code(tmp_path):
    from game.tui.shared.qr import qr_lines

    app, run_before = projector_on(tmp_path, 0)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_before(pilot)
        screen = app.screen
        assert "or open http://192.0.2.2:8765/#TEST34 in a browser" in widget_text(screen.query_one("#room-join"))
        qr = widget_text(screen.query_one("#room-qr"))
        assert qr_lines("http://192.0.2.2:8765/#TEST34")[3] in qr, "the QR code of that address"
        assert screen.query_one("#room-qr").display
        await app.server_for_test.close()
