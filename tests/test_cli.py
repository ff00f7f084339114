"""The crossroads command line, run as a person would run it."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from game.cli.main import main
from tests.conftest import DECKS, TEST_DECKS


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("demo", "deck"):
        assert command in result.output


def test_deck_check_ok_and_failing():
    ok = run("deck", "check", str(DECKS / "interlodge.toml"), str(TEST_DECKS / "tiny.toml"))
    assert ok.exit_code == 0 and ok.output.count(": ok") == 2
    bad_path = str(TEST_DECKS / "malformed" / "unknown_metric_in_effects.toml")
    bad = run("deck", "check", str(DECKS / "interlodge.toml"), bad_path)
    assert bad.exit_code == 1
    assert f'{bad_path}:43:13: unknown metric "trsut" (did you mean "trust"?)' in bad.output


def test_deck_check_accepts_bundled_names_and_reports_missing_files(tmp_path):
    assert run("deck", "check", "interlodge").exit_code == 0
    missing = run("deck", "check", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_deck_simulate_text_and_json():
    text = run("deck", "simulate", "interlodge", "--runs", "40")
    assert text.exit_code == 0
    assert "== Pattern silos" in text.output and "== Pattern desk_voice" in text.output
    assert "Claim HOLDS" in text.output
    data = json.loads(run("deck", "simulate", "interlodge", "--runs", "20", "--pattern", "silos", "--json", "--strategy", "greedy").output)
    assert list(data["patterns"]) == ["silos"] and data["runs"] == 20 and data["strategy"] == "greedy"
    assert "claim" not in data  # the claim needs both of its patterns


def test_deck_simulate_unknown_pattern_is_a_usage_error_not_a_traceback():
    result = CliRunner().invoke(main, ["deck", "simulate", "interlodge", "--pattern", "silo"])
    assert result.exit_code == 2
    assert "unknown pattern" in result.output and "Traceback" not in result.output


def test_demo_tells_the_game_round_by_round():
    result = run("demo", "--text", "--seed", "3", "--strategy", "random")
    assert result.exit_code == 0
    out = result.output
    assert "== Round 1 of 6" in out and "== Round 6 of 6" in out
    assert "What changed:" in out and "[interaction]" in out
    assert "Where the game ended" in out and "Counterfactual" in out


def test_the_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "game.cli", "deck", "check", "interlodge"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_session_options_are_checked_before_anything_starts(tmp_path):
    result = CliRunner().invoke(main, ["facilitate", "ws://127.0.0.1:9", "interlodge", "--patterns", "silo"])
    assert result.exit_code == 2 and 'unknown pattern "silo"' in result.output and "silos" in result.output
    result = CliRunner().invoke(main, ["host", "nosuchdeck", "--port", "0", "--data", str(tmp_path)])
    assert result.exit_code != 0 and "nosuchdeck" in result.output and "Traceback" not in result.output


def test_a_deck_file_is_sent_as_text_and_a_bundled_one_by_name():
    from game.cli.session import create_request

    bundled = create_request("interlodge", 3, "silos, desk_voice", 7)
    assert bundled == {"orgs": 3, "patterns": ["silos", "desk_voice"], "seed": 7, "deck": "interlodge"}
    from_file = create_request(str(TEST_DECKS / "tiny.toml"), 1, "", None)
    assert "deck" not in from_file and from_file["deck_toml"] == (TEST_DECKS / "tiny.toml").read_text(encoding="utf-8")
