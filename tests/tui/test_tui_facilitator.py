"""The facilitator console and the whole game through five apps at once."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable, Label, OptionList, Static

from game.client.seats import SeatStore
from game.local.embedded import EmbeddedServer
from game.tui.facilitator.app import FacilitatorApp
from game.tui.facilitator.dialogs import Confirm, Pick
from game.tui.facilitator.screens import ConsoleScreen, DebriefScreen
from game.tui.participant.app import ParticipantApp
from game.tui.participant.screens import PlayScreen
from tests.server.test_server import base
from tests.tuihelp import screen_text, wait_for, widget_text
from tests.wsclient import join


def console_text(app, selector: str) -> str:
    return widget_text(app.screen.query_one(selector, Static), width=160)


async def test_the_console_runs_a_session_from_its_keys(hub, tmp_path):
    app = FacilitatorApp(
        base(hub),
        hub.secret,
        join_address="10.0.0.5:8765",
        create={"deck": "interlodge", "orgs": 2, "patterns": ["silos", "desk_voice"], "seed": 3},
    )
    async with app.run_test(size=(150, 44)) as pilot:
        await wait_for(pilot, lambda: hub.session is not None and app.view, what="session created")
        code = hub.session.code
        assert f"crossroads join 10.0.0.5:8765 --code {code}" in console_text(app, "#join-how")
        players = [await join(base(hub), code, name) for name in ("Ana", "Ben", "Cy")]
        roster = app.screen.query_one("#roster", DataTable)
        await wait_for(pilot, lambda: roster.row_count == 3, what="roster rows")
        assert "Organisation 2" in console_text(app, "#chart")

        await pilot.press("l")
        await wait_for(pilot, lambda: hub.session.locked)
        await pilot.press("l")
        await wait_for(pilot, lambda: not hub.session.locked)

        await pilot.press("s")
        await wait_for(pilot, lambda: hub.session.phase == "brief")
        deadline = hub.session.deadline
        await pilot.press("plus")
        await wait_for(pilot, lambda: hub.session.deadline == pytest.approx(deadline + 60))
        await pilot.press("p")
        await wait_for(pilot, lambda: hub.session.paused)
        await pilot.press("p")
        await wait_for(pilot, lambda: not hub.session.paused)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, Pick))
        await pilot.press("enter")  # the first inject...
        await wait_for(pilot, lambda: isinstance(app.screen, Pick) and "which organisation" in app.screen.title_text)
        await pilot.press("enter")  # ...for every organisation...
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")  # ...after its preview
        await wait_for(pilot, lambda: all(org.injects for org in hub.session.orgs), what="inject fired")

        await pilot.press("n")
        await wait_for(pilot, lambda: hub.session.phase == "talk")
        # an inject or a pattern change during talk is refused at once, before any dialog, in words
        notes: list[str] = []
        original_notify = app.notify
        app.notify = lambda message, **kw: (notes.append(str(message)), original_notify(message, **kw))[1]
        await pilot.press("i")
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConsoleScreen), "no dialog opened"
        assert "Firing an inject is possible during the brief, the reveal or a time-out, not during talk." in notes
        assert any(n.startswith("Changing the pattern is possible during the lobby") for n in notes)
        app.notify = original_notify
        await pilot.press("n")
        await wait_for(pilot, lambda: hub.session.phase == "choose")
        await pilot.press("b")
        await wait_for(pilot, lambda: all(s.bot for s in hub.session.seats.values()), what="stalled seats to bots")
        # the chart says that the people not counted in "chosen" are played by bots for now
        await wait_for(pilot, lambda: "played by bots for now" in console_text(app, "#chart"), what="bots counted in the chart")
        await pilot.press("n")
        await wait_for(pilot, lambda: hub.session.phase == "reveal")

        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Pick))
        await pilot.press("down", "enter")  # organisation 2
        await wait_for(
            pilot, lambda: isinstance(app.screen, Pick) and app.screen.title_text.startswith("Pattern") and app.screen.query("#pick")
        )
        app.screen.query_one("#pick", OptionList).highlighted = 0  # silos
        await pilot.press("enter")
        await wait_for(pilot, lambda: hub.session.orgs[1].pattern == "silos")

        await pilot.press("t")
        await wait_for(pilot, lambda: hub.session.phase == "timeout")

        roster.focus()
        roster.move_cursor(row=0)
        first_seat = roster.coordinate_to_cell_key(roster.cursor_coordinate).row_key.value
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, Pick))
        app.screen.query_one("#pick", OptionList).highlighted = 7  # organisation 2, customer
        await pilot.press("enter")
        await wait_for(pilot, lambda: (hub.session.seats[first_seat].org, hub.session.seats[first_seat].group) == (1, "customer"))

        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")
        assert not any(s.kicked for s in hub.session.seats.values()), "saying no keeps the participant"
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: sum(s.kicked for s in hub.session.seats.values()) == 1)

        await pilot.press("d")
        assert isinstance(app.screen, ConsoleScreen), "no debrief before the last round"
        for _round in range(5):
            for phase in ("brief", "talk", "choose", "reveal"):
                await pilot.press("n")
                await wait_for(pilot, lambda phase=phase: hub.session.phase == phase, what=phase)
        await pilot.press("n")
        await wait_for(pilot, lambda: hub.session.phase == "debrief")
        await wait_for(pilot, lambda: "debrief" in app.view)
        await pilot.press("d")
        assert isinstance(app.screen, DebriefScreen)
        text = screen_text(app, width=160)
        assert "Change by lever" in text and "What another structure would have done" in text and "Organisation 2 (" in text
        await pilot.press("escape")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: hub.session.phase == "ended")
        log = "\n".join(line.plain for line in app.events)
        assert "Ana joined" in log and "Phase: Debrief" in log
        assert players


async def test_a_console_on_a_server_without_a_session_says_how_to_start_one(hub):
    app = FacilitatorApp(base(hub), hub.secret)
    async with app.run_test(size=(150, 44)) as pilot:
        await wait_for(pilot, lambda: any("No session is running" in line.plain for line in app.events), what="the hint")
        hint = next(line.plain for line in app.events if "No session is running" in line.plain)
        assert f"crossroads facilitate {base(hub)} DECK" in hint
        assert hub.session is None


async def test_a_console_asked_for_a_deck_shows_the_session_already_running_instead(hub):
    first = FacilitatorApp(base(hub), hub.secret, create={"deck": "interlodge", "orgs": 2})
    async with first.run_test(size=(150, 44)) as pilot:
        await wait_for(pilot, lambda: hub.session is not None and first.view, what="first session")
    code = hub.session.code
    second = FacilitatorApp(base(hub), hub.secret, create={"deck": "friction", "orgs": 1})
    async with second.run_test(size=(150, 44)) as pilot:
        await wait_for(pilot, lambda: second.view, what="the running session's view")
        assert second.view["session"]["code"] == code and hub.session.deck.id == "interlodge"
        assert any(f"Session {code} is already running" in line.plain for line in second.events)
        assert not any("Could not create" in line.plain for line in second.events)


async def test_host_mode_resumes_an_unfinished_session(tmp_path):
    data = tmp_path / "host"
    first = FacilitatorApp("", "", create={"deck": "interlodge", "seed": 1}, server=EmbeddedServer(data))
    async with first.run_test(size=(150, 44)) as pilot:
        await wait_for(pilot, lambda: first.view, what="first session")
        code = first.view["session"]["code"]
        await pilot.press("s")
        await wait_for(pilot, lambda: first.view["session"]["phase"] == "brief")
        await pilot.press("ctrl+q")
    second = FacilitatorApp("", "", create={"deck": "interlodge", "seed": 2}, server=EmbeddedServer(data))
    async with second.run_test(size=(150, 44)) as pilot:
        await wait_for(pilot, lambda: second.view, what="resumed session")
        assert second.view["session"]["code"] == code and second.view["session"]["phase"] == "brief"
        journal = second.server.journal
        assert any(f"Resumed session {code} from the journal in {journal}" in line.plain for line in second.events)
        assert not any("already running" in line.plain for line in second.events), "the console says it resumed, once"
        await pilot.press("ctrl+q")
    assert second.return_code == 0


async def test_hosting_again_after_the_end_starts_anew_and_says_how_to_see_the_old_debrief(tmp_path):
    data = tmp_path / "data"
    first = FacilitatorApp("", "", create={"deck": "interlodge", "seed": 1}, server=EmbeddedServer(data))
    async with first.run_test(size=(150, 44)) as pilot:
        await wait_for(pilot, lambda: first.view, what="first session")
        old = first.view["session"]["code"]
        keys = first.screen.query_one("#keys", Static)

        def lit() -> set[str]:
            """The keys the bar shows as working now (the others are dimmed)."""
            bar = keys.content
            return {bar.plain[s.start : s.end].strip() for s in bar.spans if s.style == "bold reverse"}

        await wait_for(pilot, lambda: "s" in lit(), what="the lobby's keys")
        assert "n" not in lit() and "i" not in lit(), "the bar lights only what the phase allows"
        assert " n  next phase" in widget_text(keys) and " i  inject" in widget_text(keys), "every key stays on show"
        await pilot.press("e")
        await pilot.press("y")
        await wait_for(pilot, lambda: first.view["session"]["phase"] == "ended", what="the end")
        await wait_for(pilot, lambda: "session ended" in console_text(first, "#join-how"), what="the header says ended")
        assert "lobby open" not in console_text(first, "#join-how")
        assert not lit() & set("snpkme"), lit()
        assert "d" in lit()
        await pilot.press("ctrl+q")
    second = FacilitatorApp("", "", create={"deck": "interlodge", "seed": 2}, server=EmbeddedServer(data))
    async with second.run_test(size=(150, 44)) as pilot:
        await wait_for(pilot, lambda: second.view and second.view["session"]["code"] != old, what="a new session")
        lines = [line.plain for line in second.events]
        assert any(f"{old} (ended, 0 seats)" in line for line in lines)
        assert any(line.endswith(f"To see an ended session's debrief: crossroads debrief {data} --session {old}") for line in lines)
        assert not any(line.startswith("Resumed session") for line in lines)
        await pilot.press("ctrl+q")


async def test_quitting_the_hosting_console_with_people_online_asks_first(tmp_path):
    app = FacilitatorApp("", "", create={"deck": "interlodge", "seed": 1}, server=EmbeddedServer(tmp_path / "data"))
    async with app.run_test(size=(150, 44)) as pilot:
        await wait_for(pilot, lambda: app.view, what="the session")
        ana = await join(app.server.url, app.view["session"]["code"], "Ana")
        await wait_for(pilot, lambda: any(s["connected"] for o in app.view["orgs"] for s in o["seats"]), what="Ana online")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm) and app.screen.query(Label), what="the question")
        assert "1 participant lose their connection" in widget_text(app.screen.query_one(Label))
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, Confirm))
        assert app.is_running and await ana.request({"type": "say", "to": "bottom", "text": "still here"})
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm), what="the question again")
        await pilot.press("y")
    assert app.return_code == 0


async def test_five_apps_play_three_rounds_to_the_debrief(hub, tmp_path):
    toml = open("decks/interlodge.toml").read().replace("rounds = 6", "rounds = 3")
    for r in (4, 5, 6):
        toml = toml.replace(f"round = {r}\n", "weight = 1\n")
    facilitator = FacilitatorApp(base(hub), hub.secret, create={"deck_toml": toml, "seed": 9, "patterns": ["desk_voice"]})
    done: dict[str, dict] = {}
    started = asyncio.Event()
    # who has seen its own choice recorded, per round: the facilitator closes the round only after
    # all four have (otherwise a busy machine can move on before a player's screen is checked)
    recorded: dict[int, set[str]] = {r: set() for r in range(1, 4)}

    async def participant(name: str) -> None:
        await started.wait()
        player = await join(base(hub), hub.session.code, name)
        app = ParticipantApp(base(hub), store=SeatStore(tmp_path / name), token=player.token)
        sent: list[dict] = []  # every request the app makes, with its answer once it has one
        toasts: list[str] = []
        original_send, original_notify = app._send, app.notify

        async def logged_send(message):
            entry = {"message": message, "answer": None}
            sent.append(entry)
            entry["answer"] = await original_send(message)
            return entry["answer"]

        def logged_notify(message, **kwargs):
            toasts.append(str(message))
            return original_notify(message, **kwargs)

        def choices_sent(r: int) -> list[dict]:
            return [e for e in sent if e["message"]["type"] == "choose" and e["message"]["round"] == r]

        app._send, app.notify = logged_send, logged_notify
        async with app.run_test(size=(120, 40)) as pilot:
            for r in range(1, 4):
                await wait_for(
                    pilot,
                    lambda r=r: app.view.get("session", {}).get("phase") == "choose" and app.view["session"]["round"] == r,
                    timeout=30,
                    what=f"{name} choose {r}",
                    detail=lambda: (app.connection_log, app.view.get("session"), toasts, sent),
                )
                if app.view["card"]["options"]:
                    wanted = [o["id"] for o in app.view["card"]["options"]]
                    options = app.screen.query_one("#options")

                    def ready(options=options, wanted=wanted) -> bool:
                        shown = [options.get_option_at_index(i).id for i in range(options.option_count)]
                        return shown == wanted and options.has_focus and options.highlighted is not None

                    await wait_for(pilot, ready, timeout=15, what=f"{name} options for round {r}")
                    picked = options.get_option_at_index(options.highlighted).id
                    confirmation = app.screen.query_one("#confirmation")
                    await pilot.press("enter")
                    # what the player sees once the server has the choice on disk (its ack carries it)
                    await wait_for(
                        pilot,
                        lambda r=r, picked=picked, confirmation=confirmation: (
                            app.you.get("choice") == picked and "Your choice is recorded" in widget_text(confirmation)
                        ),
                        timeout=30,
                        what=f"{name} to see the choice {picked!r} recorded after one Enter in round {r}",
                        detail=lambda r=r: (choices_sent(r), toasts, app.connection_log, app.unsent, app.you, app.view["session"]),
                    )
                recorded[r].add(name)
            await wait_for(pilot, lambda: app.view["session"]["phase"] == "debrief", timeout=30, what=f"{name} debrief")
            done[name] = app.view
            assert isinstance(app.screen, PlayScreen)

    async def run_facilitator() -> None:
        async with facilitator.run_test(size=(150, 44)) as pilot:
            await wait_for(pilot, lambda: hub.session is not None)
            started.set()
            await wait_for(pilot, lambda: len(hub.session.seats) == 4, timeout=20, what="four players")
            await pilot.press("s")
            for r in range(1, 4):
                for phase in ("talk", "choose"):
                    await wait_for(pilot, lambda: hub.session.phase in ("brief", "talk"))
                    await pilot.press("n")
                    await wait_for(pilot, lambda phase=phase: hub.session.phase == phase, what=phase)
                await wait_for(
                    pilot,
                    lambda: not [s for s in hub.session.seats.values() if s.id not in hub.session.orgs[0].choices],
                    timeout=30,
                    what="all chosen",
                )
                await wait_for(pilot, lambda r=r: len(recorded[r]) == 4, timeout=30, what=f"all four see round {r}'s choice recorded")
                await pilot.press("n")
                await wait_for(pilot, lambda: hub.session.phase == "reveal")
                await pilot.press("n")
            await wait_for(pilot, lambda: hub.session.phase == "debrief")
            await wait_for(pilot, lambda: len(done) == 4, timeout=30, what="participants in the debrief")
            await pilot.press("d")
            assert isinstance(facilitator.screen, DebriefScreen)

    await asyncio.wait_for(asyncio.gather(run_facilitator(), *(participant(f"P{i}") for i in range(1, 5))), 120)
    groups = {view["group"] for view in done.values()}
    assert groups == {"top", "middle", "bottom", "customer"}
    org = hub.session.orgs[0]
    assert len(org.log) == 3 and all(len(picks) == 1 for inputs in org.log for picks in inputs.choices.values())
    for view in done.values():
        assert view["debrief"]["orgs"][0]["metrics"] == {k: round(v, 3) for k, v in org.state.metrics.items()}
