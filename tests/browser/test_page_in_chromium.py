"""A whole round in a real browser: one participant on the page, two on the terminal app's client
(game.client.link), bots for the other group, all in the first organisation, on a real server; two
more organisations, bots alone, give the debrief three to compare."""

from __future__ import annotations

import asyncio
import os
import re
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


async def fits(page, width: int = 390) -> None:
    """Nothing on the page is wider than the phone: no sideways scrolling of the whole page."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


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
    session = {"deck": "interlodge", "orgs": 3, "patterns": ["silos", "desk_voice"], "seed": 7, "bots": "by_the_book"}
    created = await fac.request({"type": "create_session", **session})
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

    # a wrong code: the server's reason is shown and stays (the server's later close of the join
    # connection does not replace it), the code field has the focus, and nobody is "connected"
    join_timeout, hub.join_timeout = hub.join_timeout, 0.5
    wrong = await new_tab()
    await wrong.goto(f"http://127.0.0.1:{hub.port}/")
    await wrong.fill("#code", "ZZZZZ9" if code != "ZZZZZ9" else "ZZZZZ8")
    await wrong.fill("#name", "Zed")
    await wrong.press("#name", "Enter")
    await wrong.wait_for_selector("#join-error:has-text('no session has the code')")
    assert await wrong.text_content("#connection") == "Not joined yet"
    assert await wrong.evaluate("document.activeElement.id") == "code"
    await asyncio.sleep(1.0)  # past the server's join timeout
    assert "no session has the code" in await wrong.text_content("#join-error")
    await wrong.close()
    hub.join_timeout = join_timeout

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

    # a new phase is announced to screen readers: its title and hint are a polite live region
    assert await page.evaluate("['phase-title', 'hint'].every((id) => document.getElementById(id).closest('[aria-live=polite]'))")

    # terminal participants join with the terminal app's client: Ben for the duty managers, Dev
    # for the executives
    joined = await join_session(base(hub), code, "Ben")
    ben = Terminal(base(hub), joined["token"])
    joined_dev = await join_session(base(hub), code, "Dev")
    dev = Terminal(base(hub), joined_dev["token"])
    for seat_id, group in ((seat.id, "bottom"), (joined["seat"], "middle"), (joined_dev["seat"], "top")):
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
    assert await page.get_attribute("#say", "placeholder") == "Talk opens after the brief"
    await advance(fac, hub, "talk")
    await page.wait_for_selector("#phase-title:has-text('Talk')")
    await fits(page)
    # the structure as the terminal app tells it: who acts on what the group says
    channels = await page.text_content("#channels")
    assert "Acts on what you say" in channels and "Duty managers 20%" in channels and "in play" not in channels

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
    assert await page.input_value("#say") == ""  # the server took it: the box is empty

    # a message the server refuses (a channel closed since the list was drawn) stays in its box,
    # with the reason beside it
    await page.evaluate("document.querySelector('#to').append(new Option('Executives', 'top'))")
    await page.select_option("#to", "top")
    await page.fill("#say", "Can the board hear us?")
    await page.press("#say", "Enter")
    await page.wait_for_selector("#say-error:has-text('closed')")
    assert await page.input_value("#say") == "Can the board hear us?"
    await page.evaluate("document.querySelector('#to option[value=top]').remove()")
    await page.fill("#say", "")

    await shot(page, "talk")
    # a request: nothing is picked until the person picks (Ask alone says to choose first); then
    # the page asks the duty managers for one of their options
    assert await page.input_value("#ask-middle") == ""
    await page.click("#ask-send-middle")
    await page.wait_for_selector("#ask-error-middle:has-text('Choose what to ask Duty managers for first')")
    assert not [r for r in ben.view.get("requests", []) if r["from"] == "bottom"]
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
    await fits(page)
    await ben.link.request({"type": "choose", "round": 1, "option": "send_team"})
    # the executives make a manager's path go through the desk: the structure changes in play
    await dev.link.request({"type": "choose", "round": 1, "option": "rotate_managers"})

    await shot(page, "choose")
    # reveal: the changes with their explanations, and the request granted
    await advance(fac, hub, "reveal")
    await page.wait_for_selector("#block-reveal")
    reveal = await page.text_content("#block-reveal")
    assert "What changed, and why" in reveal
    assert "asked Duty managers: Call maintenance back in for room 412 — granted" in reveal
    assert await page.locator("#block-reveal li").count() >= 2
    assert await page.get_attribute("#say", "placeholder") == "Talk is closed during the reveal"
    # one option of theirs made three changes (a channel opened, two groups listen more)
    await page.wait_for_selector("#channels:has-text('Silos (changed 3× in play)')")
    await fits(page)

    await shot(page, "reveal")
    # the time-out form: an answer typed and saved
    await advance(fac, hub, "timeout", "call_timeout")
    await page.wait_for_selector("#answer-0")
    await page.fill("#answer-0", "We <i>never</i> heard back.")
    await page.click("#save-0")
    await page.wait_for_selector("#block-timeout .answer-saved")
    assert personal(hub.session, seat)["answers"] == {"0": "We <i>never</i> heard back."}
    assert await page.get_attribute("#say", "placeholder") == "Talk is closed during the time-out"
    await fits(page)
    # an answer is sent as it is typed, without Save: a moment after typing stops
    await page.fill("#answer-1", "The duty managers.")
    await page.wait_for_selector("#answer-state-1.answer-saved")
    assert personal(hub.session, seat)["answers"]["1"] == "The duty managers."

    await shot(page, "timeout")
    # what is typed as the facilitator moves on is sent all the same, and kept for the time-out
    await page.fill("#answer-1", "The duty managers, had anyone asked them.")
    await advance(fac, hub, "brief")
    kept = "The duty managers, had anyone asked them."
    await eventually(lambda: (hub.session.answers.get((seat.id, 1, 1)) or {}).get("text") == kept, what="the unsaved answer kept")
    await page.wait_for_selector("#notice:has-text('your answer was sent all the same')")
    # on to the debrief: charts of every metric over the rounds
    while hub.session.phase != "debrief":
        assert (await fac.request({"type": "advance"}))["type"] == "ack"
    # the facilitator picks the answer for the room to see, without the name
    shown = await fac.request({"type": "show_answers", "answers": [f"{seat.id}/1/0"], "names": False})
    assert shown["type"] == "ack", shown
    await page.wait_for_selector("#block-debrief svg.chart")
    assert await page.locator("#block-debrief figure").count() == len(hub.session.deck.metrics)
    await page.wait_for_selector("#block-debrief li:has-text('We <i>never</i> heard back.')")
    debrief = await page.text_content("#block-debrief")
    # shown without names: the group says whose answer it is
    assert "undefined" not in debrief
    assert "Front desk, housekeeping and maintenance, organisation 1, round 1: When a guest was angry" in debrief
    # the story's names, never the deck's ids
    assert "Organisation 1 (Silos)" in debrief and "(silos)" not in debrief
    assert "the same choices under Desk voice" in debrief and "desk_voice" not in debrief
    assert "Front desk, housekeeping and maintenance → Duty managers" in debrief
    assert not re.search(r"\b(top|middle|bottom|customer)->", debrief)
    # three organisations side by side make tables wider than a phone: they scroll in their
    # place, and the page itself (charts, values, the Send button) stays within the screen
    await fits(page)

    await shot(page, "debrief")
    # the session ends: the page says so and forgets the seat
    assert (await fac.request({"type": "end"}))["type"] == "ack"
    await page.wait_for_selector("#notice:has-text('The session has ended')")
    assert await page.get_attribute("#say", "placeholder") == "The session has ended"
    # and a tab opened afterwards offers no seat to return to
    later = await new_tab()
    await later.goto(f"http://127.0.0.1:{hub.port}/")
    await later.wait_for_selector("#join", state="visible")
    assert await later.is_hidden("#return")

    # the token never travelled in an address; nothing came from another host
    assert not [a for a in addresses if token in a]
    assert all(a.startswith(f"http://127.0.0.1:{hub.port}/") or a.startswith(f"ws://127.0.0.1:{hub.port}/") for a in addresses)
    assert not dialogs and not errors
    for terminal in (ben, dev):
        await terminal.link.stop()
        await terminal.task
