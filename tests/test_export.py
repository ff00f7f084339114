"""``crossroads export`` replays a recorded journal (tests/fixtures/journal-2026-11.sqlite) and
writes the Markdown report, chart images, CSV files and JSON; ``crossroads debrief`` reopens it."""

from __future__ import annotations

import csv
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from game.cli.main import main

JOURNAL = Path(__file__).resolve().parent / "fixtures" / "journal-2026-11.sqlite"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copyfile(JOURNAL, folder / "journal.sqlite")
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_writes_the_report_the_charts_the_csv_files_and_the_json(data_dir, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["export", str(data_dir), "--session", "hxkm4p", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Session HXKM4P" in result.output and "1 of 6 rounds" in result.output

    metrics = rows(out / "metrics.csv")
    first = {(r["org"], r["round"], r["metric"]): float(r["value"]) for r in metrics}
    assert first[("1", "0", "satisfaction")] == 55.0, "round 0 is the start"
    assert {r["organisation"] for r in metrics} == {"Organisation 1 (Silos)", "Organisation 2 (Silos)"}
    assert {r["round"] for r in metrics} == {"0", "1"}

    choices = rows(out / "choices.csv")
    executives = [r for r in choices if (r["org"], r["round"], r["group"]) == ("1", "1", "top")]
    assert [(r["group name"], r["label"], r["players"]) for r in executives] == [
        ("Executives", "Spend an evening behind the front desk", "1")
    ]
    customers = {r["label"]: r["players"] for r in choices if (r["org"], r["group"]) == ("2", "customer")}
    assert sorted(customers.values()) == ["1", "1"], "two customers in org 2 chose differently: a bot and the mover"

    structure = rows(out / "structure.csv")
    assert [(r["org"], r["round"], r["pattern"]) for r in structure] == [("1", "1", "Silos"), ("2", "1", "Silos")]

    changes = rows(out / "changes.csv")
    assert changes and all(r["lever"] in ("special treatment", "considerateness", "interaction", "other") for r in changes)
    assert any(r["kind"] == "inject" and r["org"] == "2" for r in changes), "org 2's boiler failure is a change with its cause"
    assert all(r["explanation"] for r in changes if r["kind"] != "drift")

    messages = rows(out / "messages.csv")
    assert [(m["name"], m["from"], m["text"]) for m in messages] == [
        ("Ana", "Front desk, housekeeping and maintenance", "Room 412 again — the boiler ☹"),
        ("Di", "Executives", "Keep to targets"),
    ]
    answers = rows(out / "answers.csv")
    assert [(a["name"], a["group"], a["answer"], a["shown to the room"]) for a in answers] == [
        ("Cy", "Executives", "We only saw the dashboards.", ""),
        ("Gus", "Guests", "Nobody told us.", ""),
    ]
    assert rows(out / "requests.csv") == [] and rows(out / "structure_changes.csv") == []

    report = (out / "report.md").read_text(encoding="utf-8")
    for heading in (
        "# InterLodge: the front desk takes the heat",
        "## Where each organisation ended",
        "## What another structure would have done",
        "## The structure of each organisation in each round",
        "## Each metric over the rounds",
        "## Change by lever",
        "## Round by round: choices and requests",
        "## Time-out answers",
    ):
        assert heading in report, heading
    assert report.index("What another structure") < report.index("Change by lever"), "the counterfactual near the top"
    assert "*what happened* with *the same choices*" in report and "the same choices under Desk voice" in report
    assert "![Guest satisfaction](charts/satisfaction.svg)" in report
    assert "- Executives chose: Spend an evening behind the front desk (1)" in report
    assert "| 1 | 1 | Cy, Executives |" in report
    assert "desk_voice" not in report and "->" not in report, "human labels, never raw ids"

    svg = ET.parse(out / "charts" / "satisfaction.svg").getroot()
    assert svg.tag.endswith("svg")
    chart = (out / "charts" / "satisfaction.svg").read_text(encoding="utf-8")
    assert "Organisation 1 (Silos)" in chart and "Organisation 2 (Silos)" in chart and "<script" not in chart.split("<defs")[0]

    document = json.loads((out / "session.json").read_text(encoding="utf-8"))
    assert [o["title"] for o in document["orgs"]] == ["Organisation 1 (Silos)", "Organisation 2 (Silos)"]
    assert document["orgs"][1]["rounds"][0]["injects"] == ["The boiler fails on the third floor"]

    for private in ("report.md", "session.json", "messages.csv", "answers.csv"):
        assert (out / private).stat().st_mode & 0o777 == 0o600, private
    assert (out / "metrics.csv").stat().st_mode & 0o777 == 0o644


def test_export_without_texts_counts_messages_and_answers_but_keeps_no_words(data_dir, tmp_path):
    out = tmp_path / "plain"
    result = CliRunner().invoke(main, ["export", str(data_dir), "--out", str(out), "--no-texts"])
    assert result.exit_code == 0, result.output
    assert not (out / "messages.csv").exists() and not (out / "answers.csv").exists()
    assert rows(out / "answer_counts.csv") == [
        {"org": "1", "round": "1", "group": "Executives", "prompt": rows_prompt(data_dir, "top"), "answers": "1"},
        {"org": "1", "round": "1", "group": "Guests", "prompt": rows_prompt(data_dir, "customer", 1), "answers": "1"},
    ]
    everything = "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())
    for words in ("We only saw the dashboards.", "Nobody told us.", "Keep to targets", "Room 412", "Cy", "Gus"):
        assert words not in everything, words


def rows_prompt(data_dir: Path, group: str, prompt: int = 0) -> str:
    from game.local.archive import read_session

    return read_session(data_dir).deck.groups[group].timeout[prompt]


def test_export_names_the_sessions_a_journal_holds_when_the_code_is_wrong(data_dir, tmp_path):
    result = CliRunner().invoke(main, ["export", str(data_dir), "--session", "ZZZZZZ", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert 'no session has the code "ZZZZZZ"' in result.output and "HXKM4P" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["export", str(empty)])
    assert result.exit_code != 0 and "holds no journal" in result.output
