"""A whole round in a real browser: one participant on the page, one on the terminal app's client
(game.client.link), bots for the other groups, all in the same organisation, on a real server."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from game.client.link import Link, join_session
from game.core.session import personal
from server.hub import Hub
from tests.wsclient import Client, facilitator

pytestmark = pytest.mark.browser

# markup and a script tag in a name and in chat must show as the characters typed
NAME = "<b>Ana</b><script>"
CHAT = "<img src=x onerror=alert(1)><script>alert(2)</script> 412 again"


SHOTS = os.environ.get("CROSSROADS_SHOTS", "")  # a folder: screenshots of each phase, for a person to look at


async def shot(page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def base(hub: Hub) -> str:
    return f"ws://127.0.0.1:{hub.port}"


async def eventually(check, timeout: float = 10.0, what: str = "the condition") -> Any:
    """Poll ``check`` until it returns something true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if loop.time() > end:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def advance(fac: Client, hub: Hub, to: str, command: str = "advance") -> None:
    answer = await fac.request({"type": command})
    assert answer["type"] == "ack", answer
    assert hub.session.phase == to


class Terminal:
    """A participant on the terminal app's own link, as ``crossroads join`` runs it."""

    def __init__(self, url: str, token: str) -> None:
        self.view: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []
        self.link = Link(url, "/v1/seat", token=token, on_message=self.note, on_state=lambda s, r: None)
        self.task = asyncio.create_task(self.link.run())

    def note(self, message: dict[str, Any]) -> None:
        if message["type"] == "view":
            self.view = message["view"]
        elif message["type"] == "message":
            self.messages.append(message["message"])


async def test_a_whole_round_in_the_browser_beside_a_terminal_participant(hub, browser):
    fac = await facilitator(base(hub), hub.secret)
    created = await fac.request({"type": "create_session", "deck": "interlodge", "orgs": 1, "seed": 7, "bots": "by_the_book"})
    code = created["code"]

    phone = await browser.new_context(viewport={"width": 390, "height": 844})
    dialogs: list[str] = []
    errors: list[str] = []
    addresses: list[str] = []

    async def new_tab():
        tab = await phone.new_page()
        tab.on("dialog", lambda dialog: dialogs.append(dialog.message))
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.on("request", lambda request: addresses.append(request.url))
        tab.on("websocket", lambda ws: addresses.append(ws.url))
        return tab

    page = await new_tab()

    # join: the code comes with the address, the name is typed, Enter sends
    await page.goto(f"http://127.0.0.1:{hub.port}/#{code.lower()}")
    assert await page.input_value("#code") == code
    await page.focus("#name")
    await page.keyboard.type(NAME)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#play", state="visible")
    seat = await eventually(lambda: next((s for s in hub.session.seats.values() if s.name == NAME), None), what="the browser's seat")
    token = await page.evaluate("JSON.parse(sessionStorage.getItem('crossroads.seat')).token")
    assert token and hub.session.seat_by_token(token).id == seat.id
    assert seat.device_key, "the page sent its browser's id"

    # a terminal participant joins with the terminal app's client
    joined = await join_session(base(hub), code, "Ben")
    ben = Terminal(base(hub), joined["token"])
    for seat_id, group in ((seat.id, "bottom"), (joined["seat"], "middle")):
        assert (await fac.request({"type": "move", "seat": seat_id, "org": 0, "group": group}))["type"] == "ack"
    await page.wait_for_function("document.querySelector('#where').textContent.includes('Front desk')")
    # the lobby lists who is here, names as typed, once both moves have reached the page
    for _ in range(100):
        lobby = await page.text_content("#block-lobby") or ""
        if "Ben" in lobby:
            break
        await asyncio.sleep(0.05)
    assert NAME in lobby and "Ben" in lobby

    await shot(page, "lobby")
    # brief, then talk
    await advance(fac, hub, "brief", "start")
    await page.wait_for_selector("#block-card h2:has-text('A broken shower')")
    await advance(fac, hub, "talk")
    await page.wait_for_selector("#phase-title:has-text('Talk')")

    # talk: the page writes to the duty managers, with the keyboard alone; the terminal answers
    await page.select_option("#to", "middle")
    await page.focus("#say")
    await page.keyboard.type(CHAT)
    await page.keyboard.press("Enter")
    said = await eventually(lambda: next((m for m in ben.messages if m["text"] == CHAT), None), what="the page's message at the terminal")
    assert said["name"] == NAME and (said["from"], said["to"]) == ("bottom", "middle")
    await ben.link.request({"type": "say", "to": "bottom", "text": "Which room?"})
    await page.wait_for_selector("#messages li:has-text('Which room?')")
    # markup in the name and the chat shows as typed: no element is made from it, no script runs
    log = await page.text_content("#messages")
    assert f"{NAME} (Front desk, housekeeping and maintenance → Duty managers): {CHAT}" in log
    assert await page.locator("#messages b, #messages img, #messages script").count() == 0
    assert await page.locator("body script").count() == 0

    await shot(page, "talk")
    # a request: the page asks the duty managers for one of their options
    await page.select_option("#ask-middle", "send_team")
    await page.click("#ask-send-middle")
    await page.wait_for_selector("#block-ask [role=status]:has-text('Call maintenance back in for room 412')")
    asked = await eventually(lambda: ben.view.get("requests"), what="the request in the Middles' view")
    assert asked[0]["from"] == "bottom" and asked[0]["option"] == "send_team" and asked[0]["names"] == [NAME]

    # a refresh keeps the seat: same token, same seat, no new seat
    seats_before = len(hub.session.seats)
    await page.reload()
    await page.wait_for_selector("#play", state="visible")
    await page.wait_for_selector("#phase-title:has-text('Talk')")
    assert await page.is_hidden("#join")
    assert len(hub.session.seats) == seats_before
    await eventually(lambda: seat.id in hub.seat_conns, what="the seat connected again")
    assert await page.evaluate("JSON.parse(sessionStorage.getItem('crossroads.seat')).token") == token

    # the connection drops (the server going away): the page reconnects by itself to the same seat
    dropped = hub.seat_conns[seat.id]
    await dropped.close(1001, "going away")
    await eventually(lambda: hub.seat_conns.get(seat.id) not in (None, dropped), what="the page back on its seat")
    await page.wait_for_selector("#connection:text-is('Connected')")
    assert len(hub.session.seats) == seats_before

    # the tab is closed and the address opened again: the page offers the seat back, by name
    await page.close()
    await eventually(lambda: seat.id not in hub.seat_conns, what="the closed tab's connection gone")
    page = await new_tab()
    await page.goto(f"http://127.0.0.1:{hub.port}/#{code}")
    await page.wait_for_selector("#return-button", state="visible")
    assert f"This browser was in session {code} as {NAME}." == await page.text_content("#return-text")
    assert await page.evaluate("document.activeElement.id") == "return-button"
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#phase-title:has-text('Talk')")
    await eventually(lambda: seat.id in hub.seat_conns, what="the seat back from a new tab")
    assert len(hub.session.seats) == seats_before
    assert await page.evaluate("JSON.parse(sessionStorage.getItem('crossroads.seat')).token") == token

    # choose: the request addressed to the Middles shows beside the option at the terminal's
    # side; the page picks with the keyboard and confirms
    await advance(fac, hub, "choose")
    await page.wait_for_selector("#choose-form")
    await page.focus("#option-0")
    await page.keyboard.press("ArrowDown")  # to the second option: log the fault
    await page.click("#choose-button")
    await page.wait_for_selector("#choice-status:has-text('Your choice is recorded: Log the fault')")
    assert personal(hub.session, seat)["choice"] == "report_fault"
    await ben.link.request({"type": "choose", "round": 1, "option": "send_team"})

    await shot(page, "choose")
    # reveal: the changes with their explanations, and the request granted
    await advance(fac, hub, "reveal")
    await page.wait_for_selector("#block-reveal")
    reveal = await page.text_content("#block-reveal")
    assert "What changed, and why" in reveal
    assert "asked Duty managers: Call maintenance back in for room 412 — granted by 100% of them" in reveal
    assert await page.locator("#block-reveal li").count() >= 2

    await shot(page, "reveal")
    # the time-out form: an answer typed and saved
    await advance(fac, hub, "timeout", "call_timeout")
    await page.wait_for_selector("#answer-0")
    await page.fill("#answer-0", "We <i>never</i> heard back.")
    await page.click("#save-0")
    await page.wait_for_selector("#block-timeout .answer-saved")
    assert personal(hub.session, seat)["answers"] == {"0": "We <i>never</i> heard back."}

    await shot(page, "timeout")
    # on to the debrief: charts of every metric over the rounds
    while hub.session.phase != "debrief":
        assert (await fac.request({"type": "advance"}))["type"] == "ack"
    # the facilitator picks the answer for the room to see, without the name
    shown = await fac.request({"type": "show_answers", "answers": [f"{seat.id}/1/0"], "names": False})
    assert shown["type"] == "ack", shown
    await page.wait_for_selector("#block-debrief svg.chart")
    assert await page.locator("#block-debrief figure").count() == len(hub.session.deck.metrics)
    assert "We <i>never</i> heard back." in await page.text_content("#block-debrief")

    await shot(page, "debrief")
    # the session ends: the page says so and forgets the seat
    assert (await fac.request({"type": "end"}))["type"] == "ack"
    await page.wait_for_selector("#notice:has-text('The session has ended')")
    # and a tab opened afterwards offers no seat to return to
    later = await new_tab()
    await later.goto(f"http://127.0.0.1:{hub.port}/")
    await later.wait_for_selector("#join", state="visible")
    assert await later.is_hidden("#return")

    # the token never travelled in an address; nothing came from another host
    assert not [a for a in addresses if token in a]
    assert all(a.startswith(f"http://127.0.0.1:{hub.port}/") or a.startswith(f"ws://127.0.0.1:{hub.port}/") for a in addresses)
    assert not dialogs and not errors
    await ben.link.stop()
    await ben.task
