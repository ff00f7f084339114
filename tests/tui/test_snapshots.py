"""Snapshots of the main screens (pytest-textual-snapshot). Update with --snapshot-update
after a deliberate change, and look at the SVGs in __snapshots__ before committing."""

from __future__ import annotations

from pathlib import Path

from game.client.seats import SeatStore
from game.local.demo import DemoHost
from game.local.embedded import EmbeddedServer
from game.tui.facilitator.app import FacilitatorApp
from game.tui.participant.app import ParticipantApp
from game.tui.participant.screens import PlayScreen
from tests.tuihelp import screen_text, wait_for

UNTIMED = str(Path(__file__).resolve().parent.parent / "decks" / "untimed.toml")
SIZE = (110, 34)


def demo_app(tmp_path) -> ParticipantApp:
    return ParticipantApp(local=DemoHost(UNTIMED, seed=4, bots="by_the_book", code_factory=lambda: "TEST34"), store=SeatStore(tmp_path))


def test_join_screen(snap_compare, tmp_path):
    app = ParticipantApp("192.168.1.20:8765", "", "Ana", store=SeatStore(tmp_path))
    assert snap_compare(app, terminal_size=SIZE)


def test_demo_start_screen(snap_compare, tmp_path):
    assert snap_compare(demo_app(tmp_path), terminal_size=SIZE)


async def _into_play(pilot, group_tabs: int = 3) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.screen.query_one("#play-bottom"))
    app.screen.query_one("#play-bottom").press()
    await wait_for(pilot, lambda: isinstance(app.screen, PlayScreen) and app.view.get("session", {}).get("phase") == "brief", timeout=15)
    await pilot.pause(0.3)


def test_demo_brief(snap_compare, tmp_path):
    assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=_into_play)


async def _into_choose(pilot) -> None:
    await _into_play(pilot)
    app = pilot.app
    for phase in ("talk", "choose"):
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda phase=phase: app.view["session"]["phase"] == phase)
    await pilot.pause(0.3)


def test_demo_choose(snap_compare, tmp_path):
    assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=_into_choose)


def test_demo_reveal(snap_compare, tmp_path):
    async def run_before(pilot):
        await _into_choose(pilot)
        app = pilot.app
        await wait_for(pilot, lambda: app.screen.query_one("#options").option_count == 3)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "reveal")
        await pilot.pause(0.3)

    assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def console(tmp_path) -> FacilitatorApp:
    return FacilitatorApp(
        "",
        "",
        join_address="192.168.1.20:8765",
        create={"deck_toml": Path(UNTIMED).read_text(), "orgs": 2, "patterns": ["silos", "desk_voice"], "seed": 1},
        server=EmbeddedServer(tmp_path / "host", code_factory=lambda: "TEST34"),
        clock=lambda: "10:00:00",
    )


def test_facilitator_console(snap_compare, tmp_path):
    async def run_before(pilot):
        await wait_for(pilot, lambda: pilot.app.view, timeout=15)
        await pilot.pause(0.3)

    assert snap_compare(console(tmp_path), terminal_size=(140, 40), run_before=run_before)


def test_facilitator_help(snap_compare, tmp_path):
    async def run_before(pilot):
        await wait_for(pilot, lambda: pilot.app.view, timeout=15)
        await pilot.press("f1")
        await pilot.pause(0.3)

    assert snap_compare(console(tmp_path), terminal_size=(140, 40), run_before=run_before)


REQUESTS = str(Path(__file__).resolve().parent.parent / "decks" / "requests.toml")


def middle_app(tmp_path) -> ParticipantApp:
    """The duty managers in the demo of the requests deck: the front desk's bot asks them to fix room 412."""
    return ParticipantApp(local=DemoHost(REQUESTS, seed=4, code_factory=lambda: "TEST34"), store=SeatStore(tmp_path))


async def _asked_in_choose(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.screen.query_one("#play-middle"))
    app.screen.query_one("#play-middle").press()
    await wait_for(pilot, lambda: isinstance(app.screen, PlayScreen) and app.view.get("session", {}).get("phase") == "brief", timeout=15)
    # the waits are long: on a busy machine the bots' moves at each phase take a while
    for phase in ("talk", "choose"):
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda phase=phase: app.view["session"]["phase"] == phase, timeout=30, what=phase)
    await wait_for(pilot, lambda: app.view.get("requests") and app.screen.query_one("#options").option_count == 2, timeout=30)
    await wait_for(pilot, lambda: "you to: Fix room 412" in screen_text(app), timeout=30, what="the request drawn beside the options")
    await pilot.pause(0.3)


async def _reveal_with_a_shift(pilot) -> None:
    await _asked_in_choose(pilot)
    app = pilot.app
    await pilot.press("enter")  # the first option: fix room 412, as the desk asked
    await wait_for(pilot, lambda: app.view["session"]["phase"] == "reveal" and app.view.get("shifts"))
    await pilot.pause(0.3)


def test_choose_with_a_request(snap_compare, tmp_path):
    assert snap_compare(middle_app(tmp_path), terminal_size=(120, 40), run_before=_asked_in_choose)


def test_choose_with_a_request_80x24(snap_compare, tmp_path):
    assert snap_compare(middle_app(tmp_path), terminal_size=(80, 24), run_before=_asked_in_choose)


def test_reveal_with_a_shift(snap_compare, tmp_path):
    assert snap_compare(middle_app(tmp_path), terminal_size=(120, 40), run_before=_reveal_with_a_shift)


def test_reveal_with_a_shift_80x24(snap_compare, tmp_path):
    assert snap_compare(middle_app(tmp_path), terminal_size=(80, 24), run_before=_reveal_with_a_shift)
