"""The browser's address with the join code, and its QR code drawn in text."""

from __future__ import annotations

import segno

from game.tui.shared.qr import HALVES, browser_address, join_card, qr_lines


def test_the_address_carries_the_code_in_its_fragment():
    assert browser_address("192.168.1.20:8765", "JHN6Y9") == "http://192.168.1.20:8765/#JHN6Y9"
    assert browser_address("ws://10.0.0.2:8765/", "JHN6Y9") == "http://10.0.0.2:8765/#JHN6Y9"
    assert browser_address("wss://play.example:443", "JHN6Y9") == "https://play.example:443/#JHN6Y9"


def test_the_drawing_holds_every_module_of_the_code():
    address = "http://192.168.1.20:8765/#JHN6Y9"
    lines = qr_lines(address)
    unhalf = {char: pair for pair, char in HALVES.items()}
    drawn = []
    for line in lines:
        pairs = [unhalf[char] for char in line]
        drawn += [[top for top, _ in pairs], [bottom for _, bottom in pairs]]
    matrix = [[bool(m) for m in row] for row in segno.make(address, error="m", micro=False).matrix_iter(border=2)]
    assert drawn[: len(matrix)] == matrix
    assert not any(drawn[len(matrix) :][0]) if len(drawn) > len(matrix) else True


def test_the_card_says_the_address_before_the_code():
    card = join_card("192.168.1.20:8765", "JHN6Y9").plain
    assert card.startswith("Join from a browser: scan the code, or open\nhttp://192.168.1.20:8765/#JHN6Y9\n")


async def test_the_console_shows_the_browser_address_and_w_shows_its_qr_code(tmp_path):
    from game.tui.shared.qr import BrowserJoinScreen
    from tests.tui.test_snapshots import console
    from tests.tuihelp import wait_for

    app = console(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: pilot.app.view, timeout=15)
        await pilot.pause(0.2)
        assert "or open http://192.168.1.20:8765/#TEST34 in a browser" in str(app.screen.query_one("#join-how").render())
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, BrowserJoinScreen) and app.screen.query("#browser-join"))
        shown = app.screen.query_one("#browser-join").render()
        assert "\n".join(qr_lines("http://192.168.1.20:8765/#TEST34")) in str(shown)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, BrowserJoinScreen))
