"""The participant app, screen by screen, against a real server on 127.0.0.1."""

from __future__ import annotations

from textual.widgets import Input, OptionList, RichLog, Static, TextArea

from game.client.seats import SeatStore
from game.tui.participant.app import ParticipantApp
from game.tui.participant.messages import Chosen
from game.tui.participant.panes import ChoosePane, Conversation
from game.tui.participant.screens import JoinScreen, PlayScreen
from game.tui.shared.help import HelpScreen
from game.tui.shared.widgets import StatusBar
from server.hub import Hub
from tests.server.test_server import advance, base, new_session
from tests.tuihelp import screen_text, wait_for, widget_text
from tests.wsclient import join


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
        status = app.screen.query_one(StatusBar)
        assert "Organisation 1" in widget_text(status.query_one("#where", Static))
        assert "connected" in widget_text(status.query_one("#connection", Static))
        lobby = static_text(app, "#lobby-text")
        assert "Welcome, Ana!" in lobby and "Front desk" in lobby

        await fac.request({"type": "start"})
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "brief")
        assert "A broken shower" in static_text(app, "#brief-text")
        assert "Round 1 of 6" in widget_text(status.query_one("#where", Static))

        await advance(fac, hub, "talk")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "talk")
        conversation = app.screen.query_one(Conversation)
        channels = widget_text(conversation.query_one("#channels", Static))
        assert "You can talk to" in channels and "Closed to you" in channels
        say = conversation.query_one("#say", Input)
        say.focus()
        say.value = "[red]412[/red] again"
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(m["text"] == "[red]412[/red] again" for m in app.messages), what="own message")
        log = conversation.query_one("#messages", RichLog)
        assert any("[red]412[/red] again" in line.text for line in log.lines), "markup is shown literally"

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
        await wait_for(pilot, lambda: app.screen.query_one("#answer-0", TextArea))
        app.screen.query_one("#answer-0", TextArea).text = "We paid guests to go away."
        await pilot.pause(0.3)  # let the freshly mounted prompts take their places
        await pilot.click("#save-0")
        await wait_for(pilot, lambda: app.you.get("answers", {}).get("0") == "We paid guests to go away.")

        for _round in range(2, 7):
            await advance(fac, hub, "brief")
            await advance(fac, hub, "talk")
            await advance(fac, hub, "choose")
            await advance(fac, hub, "reveal")
        await advance(fac, hub, "debrief")
        await wait_for(pilot, lambda: app.view["session"]["phase"] == "debrief" and "debrief" in app.view)
        debrief = static_text(app, "#debrief-text")
        assert "The whole system" in debrief and "Gross margin" in debrief, "the debrief shows every metric"
        assert "What another structure would have done" in debrief
        assert "We paid guests to go away." not in debrief, "answers reach the room once the facilitator shows them"
        seat = app.you["seat"]
        await fac.request({"type": "show_answers", "answers": [f"{seat}/1/0"]})
        await wait_for(pilot, lambda: "We paid guests to go away." in static_text(app, "#debrief-text"), what="the answer shown")
        assert not app.screen.query_one(Conversation).display


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
        status = app.screen.query_one(StatusBar)
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
