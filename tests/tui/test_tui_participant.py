"""The participant app, screen by screen, against a real server on 127.0.0.1."""

from __future__ import annotations

import stat

from textual.widgets import Input, OptionList, RichLog, Static, TextArea

from game.client.seats import SeatStore
from game.local.demo import DemoHost
from game.tui.participant.app import ParticipantApp
from game.tui.participant.messages import Chosen
from game.tui.participant.panes import ChoosePane, Conversation, TimeoutPane
from game.tui.participant.screens import JoinScreen, PlayScreen, RequestPicker
from game.tui.participant.status import PhaseBar
from game.tui.shared.help import HelpScreen
from server.hub import Hub
from tests.conftest import TEST_DECKS
from tests.server.test_server import advance, base, new_session
from tests.tuihelp import plain, screen_text, wait_for, widget_text
from tests.wsclient import facilitator, join


def static_text(app, selector: str) -> str:
    return widget_text(app.screen.query_one(selector, Static))


async def test_join_screen_checks_fields_and_reports_the_servers_answer(hub, tmp_path):
    fac, code = await new_session(hub)
    store = SeatStore(tmp_path / "store")
    app = ParticipantApp(base(hub), store=store)
    async with app.run_test(size=(110, 34)) as pilot:
        assert isinstance(app.screen, JoinScreen)
        await pilot.click("#join")
        assert "join code" in static_text(app, "#join-error")
        app.screen.query_one("#code", Input).value = "XXXXXX"
        app.screen.query_one("#name", Input).value = "Ana"
        await pilot.pause(0.3)  # a button ignores a second press within its active effect
        await pilot.click("#join")
        await wait_for(pilot, lambda: "no session has the code" in static_text(app, "#join-error"), what="bad code error")
        app.screen.query_one("#code", Input).value = code.lower()
        await pilot.pause(0.3)
        await pilot.click("#join")
        await wait_for(pilot, lambda: isinstance(app.screen, PlayScreen), what="play screen")
        await wait_for(pilot, lambda: app.you.get("name") == "Ana")
        assert store.seat(base(hub))["seat"] == app.you["seat"]
        assert store.last() == (base(hub), "Ana")


async def test_a_removed_person_cannot_come_back_from_the_same_machine_under_another_name(hub, tmp_path):
    fac, code = await new_session(hub)
    store = SeatStore(tmp_path / "store")
    app = ParticipantApp(base(hub), store=store)
    async with app.run_test(size=(110, 34)) as pilot:
        app.screen.query_one("#code", Input).value = code
        app.screen.query_one("#name", Input).value = "Ana"
        await pilot.click("#join")
        await wait_for(pilot, lambda: app.you.get("name") == "Ana", what="joined")
        seat = app.you["seat"]
        assert hub.session.seats[seat].device_key, "the app sent its machine's id"
        assert (await fac.request({"type": "kick", "seat": seat}))["type"] == "ack"
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, JoinScreen) and "removed you" in static_text(app, "#join-error"),
            what="back at the join screen, with the reason",
        )
        assert store.seat(base(hub)) is None
        app.screen.query_one("#name", Input).value = "Anna"
        await pilot.pause(0.3)
        await pilot.click("#join")
        await wait_for(pilot, lambda: "removed you" in static_text(app, "#join-error"), what="the bar, under another name")
    # the machine's id is made once and kept, in a file its owner alone reads
    assert store.device() == store.device() and len(store.device()) >= 16
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


async def test_at_80x24_the_join_form_shows_the_servers_answer_and_the_button(hub, tmp_path):
    fac, code = await new_session(hub)
    app = ParticipantApp(base(hub), store=SeatStore(tmp_path / "store"))
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.screen.query_one("#join-error").display, "no empty line for a message not yet given"
        app.screen.query_one("#code", Input).value = "XXXXXX"
        app.screen.query_one("#name", Input).value = "Ana"
        await pilot.click("#join")
        await wait_for(pilot, lambda: "no session has the code" in static_text(app, "#join-error"), what="bad code error")
        await pilot.pause()
        screen = app.screen.region
        for part in ("#join-error", "#join", "#name"):
            region = app.screen.query_one(part).region
            assert region.height and screen.contains_region(region), f"{part} is off the screen: {region} in {screen}"


async def test_a_restarted_app_goes_straight_back_to_its_seat(hub, tmp_path):
    fac, code = await new_session(hub)
    store = SeatStore(tmp_path / "store")
    player = await join(base(hub), code, "Ben")
    store.remember(base(hub), "Ben", code, player.seat, player.token)
    app = ParticipantApp(base(hub), store=store)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_for(pilot, lambda: app.you.get("seat") == player.seat, what="own seat")
        assert isinstance(app.screen, PlayScreen)


async def test_a_revoked_token_falls_back_to_the_join_screen_with_the_reason(hub, tmp_path):
    fac, code = await new_session(hub)
    store = SeatStore(tmp_path / "store")
    store.remember(base(hub), "Ghost", code, "p9", "not-a-real-token")
    app = ParticipantApp(base(hub), store=store)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JoinScreen), what="join screen")
        assert "token" in static_text(app, "#join-error")
        assert store.seat(base(hub)) is None


async def play_app(hub, tmp_path, code, name="Ana"):
    player = await join(base(hub), code, name)
    app = ParticipantApp(base(hub), store=SeatStore(tmp_path / name), token=player.token)
    return app, player


async def test_every_phase_has_its_screen(hub, tmp_path):
    fac, code = await new_session(hub, patterns=["desk_voice"])
    app, player = await play_app(hub, tmp_path, code)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view.get("session", {}).get("phase") == "lobby")
        status = app.screen.query_one(PhaseBar)
        assert "Organisation 1" in widget_text(status.query_one("#where", Static))
        assert "connected" in widget_text(status.query_one("#connection", Static))
        lobby = static_text(app, "#lobby-text")
        assert "Welcome, Ana!" in lobby and "Front desk" in lobby

        await fac.request({"type": "start"})
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "brief")
        assert "A broken shower" in static_text(app, "#brief-text")
        assert "Round 1 of 6" in widget_text(status.query_one("#phase-name", Static))
        assert "Brief" in widget_text(status.query_one("#phase-name", Static))

        await advance(fac, hub, "talk")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "talk")
        conversation = app.screen.query_one(Conversation)
        channels = widget_text(conversation.query_one("#channels", Static))
        assert "You reach" in channels and "Acts on what you say" in channels and "Closed to you" in channels
        say = conversation.query_one("#say", Input)
        say.focus()
        say.value = "[red]412[/red] again"
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(m["text"] == "[red]412[/red] again" for m in app.messages), what="own message")
        log = conversation.query_one("#messages", RichLog)
        assert "[red]412[/red] again" in "".join(line.text for line in log.lines), "markup is shown literally"

        await advance(fac, hub, "choose")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "choose")
        options = app.screen.query_one("#options", OptionList)
        await wait_for(pilot, lambda: options.option_count == 3)
        assert options.has_focus
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.you.get("choice") == "report_fault", what="choice recorded")
        assert "Your choice is recorded" in static_text(app, "#confirmation")

        await advance(fac, hub, "reveal")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "reveal" and app.view.get("changes"))
        reveal = static_text(app, "#reveal-metrics") + static_text(app, "#reveal-changes")
        assert "Guest satisfaction" in reveal and "Gross margin" not in reveal, "bottoms do not see the margin"
        assert "[interaction" in reveal

        await fac.request({"type": "call_timeout"})
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "timeout")
        await wait_for(pilot, lambda: app.screen.query_one("#answer-0", TextArea).has_focus, what="the first answer box focused")
        await pilot.press(*"We paid guests to go away.")
        await wait_for(pilot, lambda: app.you.get("answers", {}).get("0") == "We paid guests to go away.", what="the draft sent by itself")
        await wait_for(pilot, lambda: "saved" in static_text(app, "#state-0"), what="the box says its draft is saved")

        for _round in range(2, 7):
            await advance(fac, hub, "brief")
            await advance(fac, hub, "talk")
            await advance(fac, hub, "choose")
            await advance(fac, hub, "reveal")
        await advance(fac, hub, "debrief")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "debrief" and "debrief" in app.view)
        debrief = static_text(app, "#debrief-text")
        from game.tui.shared.story import MetricChart

        charts = app.screen.query(MetricChart)
        await wait_for(
            pilot, lambda: len(app.screen.query(MetricChart)) == len(app.view["debrief"]["story"]["metrics"]), what="a chart per metric"
        )
        assert {c.metric for c in charts} <= set(app.view["debrief"]["story"]["metrics"])
        assert "The whole system" in debrief and "Gross margin" in debrief, "the debrief shows every metric"
        assert "What another structure would have done" in debrief
        assert "We paid guests to go away." not in debrief, "answers reach the room once the facilitator shows them"
        seat = app.you["seat"]
        await fac.request({"type": "show_answers", "answers": [f"{seat}/1/0"]})
        await wait_for(pilot, lambda: "We paid guests to go away." in static_text(app, "#debrief-text"), what="the answer shown")
        assert not app.screen.query_one(Conversation).display
        # the debrief scrolls with the keys at once, with no Tab first
        scroll = app.screen.query_one("#debrief")
        assert scroll.has_focus and scroll.max_scroll_y > 0
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: scroll.scroll_y > 0, what="scrolled by PgDn")


async def test_help_opens_on_f1_and_question_mark(hub, tmp_path):
    fac, code = await new_session(hub)
    app, _ = await play_app(hub, tmp_path, code)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PlayScreen) and app.view)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, PlayScreen)


async def test_ctrl_q_quits_cleanly(hub, tmp_path):
    fac, code = await new_session(hub)
    app, _ = await play_app(hub, tmp_path, code)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_for(pilot, lambda: app.view)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_errors_from_the_server_are_shown_not_raised(hub, tmp_path):
    fac, code = await new_session(hub)  # silos: bottom -> top is closed
    app, _ = await play_app(hub, tmp_path, code)
    async with app.run_test(size=(110, 34), notifications=True) as pilot:
        await fac.request({"type": "start"})
        await advance(fac, hub, "talk")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "talk")
        response = await app._send({"type": "say", "to": "top", "text": "hello"})
        assert response is None
        await pilot.pause()
        assert any("closed" in n.message for n in app._notifications)


async def test_a_pick_that_arrives_after_the_card_changed_does_not_count_for_the_new_round(hub, tmp_path):
    # A busy terminal may handle Enter late; by then the next card may be on screen. The pick
    # goes with the round it was made in, so the server refuses it instead of counting it.
    fac, code = await new_session(hub)
    app, player = await play_app(hub, tmp_path, code)
    async with app.run_test(size=(110, 34), notifications=True) as pilot:
        await fac.request({"type": "start"})
        for phase in ("talk", "choose", "reveal", "brief", "talk", "choose"):
            await advance(fac, hub, phase)
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "choose" and app.view["session"]["round"] == 2)
        late = app.screen.query_one(ChoosePane)
        late.post_message(Chosen(app.view["card"]["options"][0]["id"], 1))
        await wait_for(pilot, lambda: any("round 1" in n.message for n in app._notifications), what="the refusal shown")
        assert player.seat not in hub.session.orgs[0].choices, "nothing was counted for round 2"


async def test_the_app_shows_connection_loss_and_recovers_when_the_server_restarts(tmp_path):
    first = Hub(tmp_path / "data", flush_interval=0.05)
    await first.start("127.0.0.1", 0)
    port = first.port
    fac, code = await new_session(first)
    player = await join(base(first), code, "Ana")
    app = ParticipantApp(base(first), store=SeatStore(tmp_path / "s"), token=player.token)
    async with app.run_test(size=(110, 34)) as pilot:
        status = app.screen.query_one(PhaseBar)
        await wait_for(pilot, lambda: status.connection[0] == "connected")
        await first.close()
        await wait_for(pilot, lambda: status.connection[0] == "reconnecting", what="reconnecting state")
        assert "reconnecting" in widget_text(status.query_one("#connection", Static))
        await pilot.pause(1.5)  # several attempts fail meanwhile; they are one piece of news
        assert [state for state, _ in app.connection_log].count("reconnecting") == 1, app.connection_log
        second = Hub(tmp_path / "data", flush_interval=0.05)
        await second.start("127.0.0.1", port)
        try:
            await wait_for(pilot, lambda: status.connection[0] == "connected", timeout=15, what="reconnected")
            await wait_for(pilot, lambda: app.you.get("seat") == player.seat)
            assert "connected" in widget_text(status.query_one("#connection", Static))
        finally:
            await second.close()


async def test_the_screen_shows_the_pane_of_the_current_phase_only(hub, tmp_path):
    fac, code = await new_session(hub)
    app, _ = await play_app(hub, tmp_path, code)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view.get("session", {}).get("phase") == "lobby")
        await wait_for(pilot, lambda: "Welcome, Ana!" in screen_text(app), what="the lobby on screen")
        assert "A broken shower" not in screen_text(app)
        await fac.request({"type": "start"})
        await wait_for(pilot, lambda: "A broken shower" in screen_text(app), what="the brief on screen", detail=lambda: screen_text(app))
        shown = screen_text(app)
        assert "Welcome, Ana!" not in shown, "the lobby pane is hidden once the brief is dealt"
        assert "Read your side of the situation." in shown and "Round 1 of 6" in shown


# Requests, structure and the time-out, on a small untimed deck: the front desk can ask the duty
# managers to fix room 412, and fixing it makes the managers listen to the desk more.
REQUESTS_DECK = (TEST_DECKS / "requests.toml").read_text()


async def requests_session(hub, pattern: str = "open", deck: str = REQUESTS_DECK):
    fac = await facilitator(base(hub), hub.secret)
    ack = await fac.request({"type": "create_session", "deck_toml": deck, "patterns": [pattern], "bots": "adaptive", "seed": 3})
    assert ack["type"] == "ack", ack
    return fac, ack["code"]


async def seat_in(fac, hub, tmp_path, code, name: str, group: str):
    app, player = await play_app(hub, tmp_path, code, name)
    assert (await fac.request({"type": "move", "seat": player.seat, "org": 0, "group": group}))["type"] == "ack"
    return app, player


async def pick_in_picker(pilot, text: str) -> None:
    """In the request picker, move to the entry that says ``text`` and press Enter."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, RequestPicker) and app.screen.query("#ask-options"), what="the request picker")
    options = app.screen.query_one("#ask-options", OptionList)
    prompts = [plain(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    index = next(i for i, prompt in enumerate(prompts) if text in prompt)
    await pilot.press(*["down"] * index, "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, PlayScreen), what="the picker closed")


async def test_asking_withdrawing_and_the_reveal_of_what_was_granted(hub, tmp_path):
    fac, code = await requests_session(hub)
    app, player = await seat_in(fac, hub, tmp_path, code, "Ana", "bottom")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view.get("group") == "bottom")
        await fac.request({"type": "start"})
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "brief")
        await pilot.press("r")
        assert isinstance(app.screen, PlayScreen), "no requests during the brief"
        say = app.screen.query_one("#say", Input)
        assert say.value == "r", "outside talk and choose, r is a letter for the message line"
        say.value = ""
        await pilot.press("escape")
        await advance(fac, hub, "talk")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "talk" and app.view.get("askable"))
        footer_keys = {b.binding.key for b in app.active_bindings.values() if b.enabled and b.binding.show}
        assert "r" in footer_keys, "the key to ask is in the footer"
        await pilot.press("r")
        await pick_in_picker(pilot, "Ask the duty managers to: Fix room 412 tonight")
        org = hub.session.orgs[0]
        await wait_for(pilot, lambda: org.requests.get((player.seat, "middle")) == "fix_412", what="the request on the server")
        await wait_for(pilot, lambda: "You asked the duty managers to: Fix room 412 tonight" in screen_text(app), what="own request")
        log = app.screen.query_one("#messages", RichLog)
        # the player's own request reads in the first person in the conversation
        own = "You (Bottoms → Middles) ask the duty managers to: Fix room 412 tonight"
        await wait_for(pilot, lambda: own in "".join(line.text for line in log.lines))

        await pilot.press("r")
        await pick_in_picker(pilot, "Withdraw your request to the duty managers")
        await wait_for(pilot, lambda: (player.seat, "middle") not in org.requests, what="the request withdrawn")
        await wait_for(pilot, lambda: "You asked" not in screen_text(app), what="the request gone from the screen")
        # the conversation says it was withdrawn, and still does once a new view redraws it
        withdrawn = "You (Bottoms → Middles) withdrew the request to the duty managers: Fix room 412 tonight"
        await wait_for(pilot, lambda: withdrawn in "".join(line.text for line in log.lines), what="the withdrawal in the log")

        await pilot.press("r")
        await pick_in_picker(pilot, "Fix room 412 tonight")
        await wait_for(pilot, lambda: org.requests.get((player.seat, "middle")) == "fix_412")
        ours = lambda: [r["option"] for r in app.view["requests"] if r["from"] == "bottom"]  # noqa: E731
        await wait_for(pilot, lambda: ours() == ["fix_412"], what="a new view")
        text = "".join(line.text for line in log.lines)
        asked_again = "You (Bottoms → Middles) ask the duty managers to: Fix room 412 tonight"
        assert -1 < text.find(withdrawn) < text.rfind(asked_again), "the redrawn log keeps the withdrawal, before the new ask"
        await advance(fac, hub, "choose")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "choose")
        assert "You asked the duty managers to: Fix room 412 tonight" in static_text(app, "#choose-requests")
        await advance(fac, hub, "reveal")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "reveal" and app.view.get("shifts"))
        news = static_text(app, "#reveal-news")
        # the managers' bot listens to the desk fully under this pattern, so it grants the request
        assert "Your group asked the duty managers to: Fix room 412 tonight  ✔ granted" in news
        assert "Front desk now see Budget" in news and "The managers learn" in news
        assert "[interaction, from round 2]" in news
        structure = static_text(app, "#reveal-structure")
        assert "changed 1× in play" in structure and "Acts on what you say: Executives 100%, Duty managers 100%" in structure
        assert "Budget" in static_text(app, "#reveal-metrics"), "the desk sees the budget from now on"
        assert "The desk asked for the fix" in static_text(app, "#reveal-changes")


async def test_a_request_stands_beside_the_options_and_marks_the_one_asked_for(hub, tmp_path):
    fac, code = await requests_session(hub, "silos")
    app, _ = await seat_in(fac, hub, tmp_path, code, "Ben", "middle")
    ana = await join(base(hub), code, "Ana")
    assert (await fac.request({"type": "move", "seat": ana.seat, "org": 0, "group": "bottom"}))["type"] == "ack"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view.get("group") == "middle")
        await fac.request({"type": "start"})
        await advance(fac, hub, "talk")
        assert (await ana.request({"type": "request", "round": 1, "to": "middle", "option": "fix_412"}))["type"] == "ack"
        log = app.screen.query_one("#messages", RichLog)
        await wait_for(
            pilot, lambda: "Ana (Bottoms → Middles) asks you to: Fix room 412 tonight" in "".join(line.text for line in log.lines)
        )
        await advance(fac, hub, "choose")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "choose" and app.view["requests"])
        await wait_for(pilot, lambda: "Ana (Front desk) asks you to: Fix room 412 tonight" in static_text(app, "#choose-requests"))
        options = app.screen.query_one("#options", OptionList)
        prompts = {options.get_option_at_index(i).id: plain(options.get_option_at_index(i).prompt) for i in range(options.option_count)}
        assert "asked by Ana (Front desk)" in prompts["fix_412"]
        assert "asked by" not in prompts["carry_on"]
        assert options.has_focus
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.you.get("choice") == "fix_412")


async def into_timeout(pilot, fac, hub) -> None:
    """From the lobby to round 1's time-out, with the first answer box focused, as a person sees it."""
    app = pilot.app
    await wait_for(pilot, lambda: app.view.get("group") == "bottom")
    await fac.request({"type": "start"})
    for phase in ("talk", "choose", "reveal"):
        await advance(fac, hub, phase)
    await fac.request({"type": "call_timeout"})
    await wait_for(pilot, lambda: app.view["session"]["phase"] == "timeout")
    await wait_for(pilot, lambda: app.screen.query_one("#answer-0", TextArea).has_focus, what="the first box focused")


async def test_time_out_answers_arrive_without_a_save_button(hub, tmp_path):
    fac, code = await requests_session(hub)
    app, player = await seat_in(fac, hub, tmp_path, code, "Ana", "bottom")
    async with app.run_test(size=(120, 40)) as pilot:
        await into_timeout(pilot, fac, hub)
        assert not app.screen.query("Button"), "one form: no button per answer"
        await pilot.press(*"We asked for 412.")  # typed, never saved by hand
        await pilot.press("tab")  # on to the second box: leaving the first sends it
        await pilot.press(*"The managers, if they listened")  # typed, and the box never left
        # each shows as saved once the server has it, without a key or button
        await wait_for(
            pilot, lambda: "saved" in static_text(app, "#state-0") and "saved" in static_text(app, "#state-1"), what="both saved"
        )
        await advance(fac, hub, "brief")
        answers = {(a["seat"], a["prompt"]): a["text"] for a in hub.session.answers.values()}
        assert answers == {(player.seat, 0): "We asked for 412.", (player.seat, 1): "The managers, if they listened"}


async def test_an_answer_typed_as_the_facilitator_moves_on_still_arrives(hub, tmp_path):
    fac, code = await requests_session(hub)
    app, player = await seat_in(fac, hub, tmp_path, code, "Ana", "bottom")
    async with app.run_test(size=(120, 40)) as pilot:
        await into_timeout(pilot, fac, hub)
        # the draft is not sent as typing settles (however slow the machine): only the end sends it
        pane = app.screen.query_one(TimeoutPane)
        pane.settle = pane.steady = 3600
        await pilot.press(*"Nobody asked us")
        await advance(fac, hub, "brief")
        assert (player.seat, 1, 0) not in hub.session.answers
        await wait_for(pilot, lambda: (player.seat, 1, 0) in hub.session.answers, what="the draft sent as the time-out ended")
        assert hub.session.answers[(player.seat, 1, 0)]["text"] == "Nobody asked us"


LONG_QUESTION = "Who could have fixed it, what would they have needed to know, and from whom, to do it in time?"


async def test_a_move_mid_time_out_brings_the_new_groups_questions_wrapped_to_the_screen(hub, tmp_path):
    fac, code = await requests_session(hub, deck=REQUESTS_DECK.replace("Who could have fixed it?", LONG_QUESTION))
    app, player = await seat_in(fac, hub, tmp_path, code, "Ana", "bottom")
    async with app.run_test(size=(80, 24)) as pilot:
        await into_timeout(pilot, fac, hub)

        def shown() -> list[str]:
            return [widget_text(w).strip() for w in app.screen.query(".prompt").results(Static)]

        before = shown()
        assert before == [f"{i + 1}. {q}" for i, q in enumerate(app.view["prompts"])]
        # the whole question shows: a long one wraps onto more lines instead of being cut
        long_one = next(w for w in app.screen.query(".prompt").results(Static) if LONG_QUESTION in widget_text(w))
        assert long_one.size.height >= 2
        await pilot.press(*"half an answer")
        assert (await fac.request({"type": "move", "seat": player.seat, "org": 0, "group": "middle"}))["type"] == "ack"
        await wait_for(
            pilot,
            lambda: app.view["group"] == "middle" and shown() == [f"{i + 1}. {q}" for i, q in enumerate(app.view["prompts"])],
            what="the new group's questions",
            detail=lambda: (shown(), app.view.get("group"), app.view.get("prompts")),
        )
        assert shown() != before
        assert len(app.screen.query("#answer-0")) == 1 and len(app.screen.query("#answer-1")) == 1
        # the draft from the old group's form was sent, not lost
        await wait_for(pilot, lambda: (player.seat, 1, 0) in hub.session.answers, what="the old draft sent")


PHRASE = "can anyone help? try r"


async def type_without_hotkeys(pilot, into: str = "#say") -> None:
    """Type PHRASE with no box focused and check that it all went into the box ``into``."""
    app = pilot.app
    app.screen.set_focus(None)
    await pilot.press(*PHRASE)
    await pilot.pause()
    assert isinstance(app.screen, PlayScreen), f"a key opened {app.screen}"
    box = app.screen.query_one(into)
    assert (box.value if isinstance(box, Input) else box.text) == PHRASE
    if isinstance(box, Input):
        box.value = ""
    else:
        box.text = ""


async def test_typing_never_fires_a_hotkey_in_any_phase_with_a_server(hub, tmp_path):
    fac, code = await requests_session(hub)
    app, _ = await seat_in(fac, hub, tmp_path, code, "Ana", "bottom")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view.get("group") == "bottom")
        await type_without_hotkeys(pilot)  # lobby
        await fac.request({"type": "start"})
        for phase in ("brief", "talk", "choose", "reveal"):
            if phase != "brief":
                await advance(fac, hub, phase)
            await wait_for(pilot, lambda phase=phase: app.view["session"]["phase"] == phase)
            await type_without_hotkeys(pilot)
            assert hub.session.phase == phase
        await fac.request({"type": "call_timeout"})
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "timeout")
        await wait_for(pilot, lambda: app.screen.query_one("#answer-0", TextArea).has_focus)
        await pilot.press(*PHRASE)  # in the time-out the first answer box has the keys
        assert app.screen.query_one("#answer-0", TextArea).text == PHRASE and isinstance(app.screen, PlayScreen)


async def test_typing_never_skips_a_phase_in_the_demo(tmp_path):
    app = ParticipantApp(local=DemoHost(str(TEST_DECKS / "requests.toml"), seed=4), store=SeatStore(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one("#play-bottom"))
        app.screen.query_one("#play-bottom").press()
        await wait_for(pilot, lambda: app.view.get("session", {}).get("phase") == "brief", timeout=15)
        for phase, then in (("brief", "talk"), ("talk", "choose")):
            await type_without_hotkeys(pilot)
            await pilot.pause(0.3)
            assert app.view["session"]["phase"] == phase, "typing moved the game on"
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda then=then: app.view["session"]["phase"] == then)
        await type_without_hotkeys(pilot)  # choose: the options have focus, letters still go to the message line
        assert app.view["session"]["phase"] == "choose"
        app.screen.set_focus(app.screen.query_one("#options", OptionList))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "reveal")
        await type_without_hotkeys(pilot)
        await pilot.pause(0.3)
        assert app.view["session"]["phase"] == "reveal"
        await app.action_quit()


async def test_a_landed_inject_and_a_seat_handed_to_a_bot_are_told_once(hub, tmp_path):
    from game.tui.participant.app import notice_text

    fac, code = await new_session(hub)
    player = await join(base(hub), code, "Ana")
    store = SeatStore(tmp_path / "store")
    store.remember(base(hub), "Ana", code, player.seat, player.token)
    app = ParticipantApp(base(hub), store=store)
    inject = next(i for i in hub.session.deck.injects if not i.group)  # one the whole organisation is told of
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_for(pilot, lambda: app.you.get("seat") == player.seat, what="own seat")
        await fac.request({"type": "start"})
        await wait_for(pilot, lambda: app.view.get("session", {}).get("phase") == "brief", what="the brief")
        assert (await fac.request({"type": "inject", "inject": inject.id}))["type"] == "ack"
        await wait_for(pilot, lambda: f"{inject.id}/pending" in app.told, what="the inject's notice", detail=lambda: app.told)
        notice = app.view["notices"][0]
        assert notice_text(notice).startswith(inject.label) and "lands when round 1 is resolved" in notice_text(notice)
        await advance(fac, hub, "talk")
        await advance(fac, hub, "choose")
        assert (await fac.request({"type": "botify", "seat": player.seat}))["type"] == "ack"
        await wait_for(pilot, lambda: any("A bot is playing your seat" in key for key in app.told), what="told the seat went to a bot")
        await pilot.press("enter")  # choosing takes the seat back
        await wait_for(
            pilot, lambda: any("your seat back" in key for key in app.told), what="told the seat is back", detail=lambda: app.you
        )
        told = set(app.told)
        await advance(fac, hub, "reveal")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "reveal")
        assert app.told - told == {f"{inject.id}/landed"}, "each notice once: the inject landed is new, nothing else is told again"


async def test_the_end_of_the_session_reads_as_an_end_not_a_fault(hub, tmp_path):
    fac, code = await new_session(hub)
    app, _ = await play_app(hub, tmp_path, code)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view.get("session", {}).get("phase") == "lobby")
        assert (await fac.request({"type": "end"}))["type"] == "ack"
        bar = app.screen.query_one(PhaseBar)
        await wait_for(pilot, lambda: bar.connection[0] == "ended", what="the end in the status bar")
        assert "session ended" in widget_text(app.screen.query_one("#connection", Static))
        assert isinstance(app.screen, PlayScreen), "the screen stays, to read"


async def test_with_the_code_and_name_given_the_app_joins_without_a_keypress(hub, tmp_path):
    fac, code = await new_session(hub)
    app = ParticipantApp(base(hub), code, "Ana", store=SeatStore(tmp_path / "store"), join_now=True)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PlayScreen) and app.you.get("name") == "Ana", what="joined at once")


async def test_up_and_down_in_the_message_box_change_whom_it_goes_to(hub, tmp_path):
    from game.tui.participant.panes import ChannelPicker

    fac, code = await requests_session(hub)
    app, player = await seat_in(fac, hub, tmp_path, code, "Ana", "bottom")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.view.get("group") == "bottom")
        await fac.request({"type": "start"})
        await advance(fac, hub, "talk")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "talk")
        picker = app.screen.query_one(ChannelPicker)
        say = app.screen.query_one("#say", Input)
        await pilot.press("t")
        await wait_for(pilot, lambda: say.has_focus, what="the message box")
        assert picker.value == "bottom" and "↑↓ whom" in say.placeholder
        await pilot.press("down")
        assert picker.value == picker.targets[1] != "bottom" and say.has_focus
        await pilot.press(*"the lock in 412", "enter")
        org = hub.session.orgs[0]
        await wait_for(pilot, lambda: any(m["text"] == "the lock in 412" for m in org.messages), what="sent")
        sent = next(m for m in org.messages if m["text"] == "the lock in 412")
        assert (sent["from"], sent["to"]) == ("bottom", picker.targets[1])
        await pilot.press("up")
        assert picker.value == "bottom"
