"""Authoring commands: deck new and deck play."""

from __future__ import annotations

import os

from click.testing import CliRunner

from game.cli.main import main
from game.deckfiles import load_deck
from game.local.playtest import PlaytestHost
from game.tui.participant.app import ParticipantApp
from game.tui.participant.screens import DeckProblemsScreen, PlayScreen
from tests.tuihelp import wait_for, widget_text


def test_deck_new_writes_a_valid_commented_deck_and_will_not_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["deck", "new", "night shift"])
    assert result.exit_code == 0, result.output
    deck = load_deck("night shift.toml")
    assert deck.deck.id == "night_shift" and deck.deck.title == "Night shift"
    text = open("night shift.toml").read()
    assert text.count("\n#") >= 10, "the starting deck explains itself"
    assert runner.invoke(main, ["deck", "check", "night shift.toml"]).exit_code == 0
    again = runner.invoke(main, ["deck", "new", "night shift"])
    assert again.exit_code == 2 and "exists already" in again.output
    assert runner.invoke(main, ["deck", "new", "night shift", "--force"]).exit_code == 0


def test_deck_play_refuses_a_round_the_deck_does_not_have(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["deck", "new", "short"])
    result = runner.invoke(main, ["deck", "play", "short.toml", "--from-round", "9"])
    assert result.exit_code == 2 and "3 rounds" in result.output


async def test_playtest_starts_at_a_round_and_reloads_on_save(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    CliRunner().invoke(main, ["deck", "new", "trial"])
    path = tmp_path / "trial.toml"
    host = PlaytestHost(path, group="bottom", from_round=2, seed=3)
    app = ParticipantApp(local=host)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.view.get("session", {}).get("round") == 2, timeout=15, what="round 2")
        assert app.view["group"] == "bottom" and isinstance(app.screen, PlayScreen)
        assert len(host.server.hub.session.orgs[0].log) == 1, "bots played round 1"

        good = path.read_text()
        path.write_text(good.replace("effects = { satisfaction = 3, engagement = 1 }", "effects = { satisfction = 3, engagement = 1 }"))
        os.utime(path, (1, 1))
        # the screen and its list, composed (a busy machine shows the screen a moment before its parts)
        await wait_for(
            pilot, lambda: isinstance(app.screen, DeckProblemsScreen) and app.screen.query("#problems"), timeout=10, what="problems shown"
        )
        problems = " ".join(widget_text(app.screen.query_one("#problems"), width=400).split())
        assert 'unknown metric "satisfction" (did you mean "satisfaction"?)' in problems
        assert f"{path}:" in problems
        assert app.view["session"]["round"] == 2, "the game goes on"

        path.write_text(good.replace("effects = { satisfaction = 3, engagement = 1 }", "effects = { satisfaction = 5, engagement = 1 }"))
        os.utime(path, (2, 2))
        await wait_for(pilot, lambda: isinstance(app.screen, PlayScreen), timeout=10, what="problems closed")
        session = host.server.hub.session
        await wait_for(pilot, lambda: app.you.get("seat") in session.seats and app.view["session"]["round"] == 2, timeout=10)
        option = next(o for c in session.deck.cards for o in c.options if o.id == "bend_rules")
        assert option.effects["satisfaction"] == 5, "the new version is in play"
        await pilot.press("ctrl+q")
