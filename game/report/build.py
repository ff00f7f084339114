"""The export's files, as text: ``report.md``, ``charts/METRIC.svg``, CSV files and ``session.json``.

Every file comes from one document, the facilitator's archive of the story
(:func:`game.core.story.archive`), so the report says what the console and the projector showed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from game.core.story import granted_words
from game.report.charts import metric_chart

# Files that hold participants' words (names, messages, answers): readable by their owner only
PRIVATE = frozenset({"report.md", "session.json", "messages.csv", "answers.csv"})


def report_files(archive: dict[str, Any], *, texts: bool = True, code: str = "") -> dict[str, str]:
    """Every file of the export, path -> content. Without ``texts``, messages and answers are
    counted but their words (and their authors' names) are left out."""
    told = archive if texts else _without_texts(archive)
    files = {f"charts/{metric}.svg": metric_chart(told, metric) for metric in told["metrics"]}
    files["metrics.csv"] = _csv(
        ["org", "organisation", "round", "metric", "label", "value"],
        (
            [o["org"] + 1, o["title"], r, m, told["metrics"][m]["label"], round(v, 3)]
            for o in told["orgs"]
            for m, series in o["series"].items()
            for r, v in enumerate(series)
        ),
    )
    files["structure.csv"] = _csv(
        ["org", "round", "pattern", "switched by the facilitator", "changed by the players (from the next round)"],
        (
            [o["org"] + 1, r["round"], r["pattern_label"], "yes" if r["switched"] else "", " / ".join(r["earned"])]
            for o in told["orgs"]
            for r in o["rounds"]
        ),
    )
    files["choices.csv"] = _csv(
        ["org", "round", "card", "group", "group name", "option", "label", "players", "share"],
        (
            [o["org"] + 1, r["round"], r["card"], g, told["groups"][g], c["option"], c["label"], c["count"], c["share"]]
            for o in told["orgs"]
            for r in o["rounds"]
            for g, picks in r["choices"].items()
            for c in picks
        ),
    )
    files["requests.csv"] = _csv(
        ["org", "round", "from", "to", "option", "label", "share of the asking group", "share of the asked group that granted it"],
        (
            [o["org"] + 1, r["round"], q["from_name"], q["to_name"], q["option"], q["label"], q["share"], q["granted"]]
            for o in told["orgs"]
            for r in o["rounds"]
            for q in r["requests"]
        ),
    )
    files["message_counts.csv"] = _csv(
        ["org", "round", "from", "to", "messages and requests"],
        (
            [o["org"] + 1, r["round"], *_channel(k, told["groups"]), n]
            for o in told["orgs"]
            for r in o["rounds"]
            for k, n in r["messages"].items()
        ),
    )
    files["changes.csv"] = _csv(
        ["org", "round", "metric", "change", "lever", "kind", "cause", "group", "decided in round", "explanation"],
        (
            [
                c["org"] + 1,
                c["round"],
                c["label"],
                c["delta"],
                told["levers"].get(c["lever"], c["lever"]),
                c["kind"],
                c["cause"],
                told["groups"].get(c["group"], c["group"]) if c["group"] else "",
                c["decided"] or c["round"],
                c["explain"],
            ]
            for c in told["changes"]
        ),
    )
    files["structure_changes.csv"] = _csv(
        ["org", "round", "change", "lever", "cause", "group", "explanation"],
        (
            [
                s["org"] + 1,
                s["round"],
                s["text"],
                told["levers"].get(s["lever"], s["lever"]),
                f"{s['cause_kind']} {s['cause']}",
                told["groups"].get(s["group"], s["group"]) if s["group"] else "",
                s["explain"],
            ]
            for s in told["shifts"]
        ),
    )
    if texts:
        files["messages.csv"] = _csv(
            ["org", "round", "name", "from", "to", "text", "request"],
            ([m["org"] + 1, m["round"], m["name"], m["from_name"], m["to_name"], m["text"], m["request"]] for m in told["messages"]),
        )
        files["answers.csv"] = _csv(
            ["org", "round", "name", "group", "prompt", "answer", "shown to the room"],
            (
                [a["org"] + 1, a["round"], a.get("name", ""), a["group_name"], a["prompt"], a["text"], "yes" if a.get("shown") else ""]
                for a in told["answers"]
            ),
        )
    else:
        files["answer_counts.csv"] = _csv(
            ["org", "round", "group", "prompt", "answers"],
            ([org + 1, rnd, group, prompt, n] for (org, rnd, group, prompt), n in _answer_counts(archive["answers"]).items()),
        )
    files["session.json"] = json.dumps(told, indent=2, ensure_ascii=False) + "\n"
    files["report.md"] = markdown(told, code=code)
    return files


def _without_texts(archive: dict[str, Any]) -> dict[str, Any]:
    told = dict(archive)
    told["messages"] = []
    told["answers"] = []
    return told


def _answer_counts(answers: Iterable[dict[str, Any]]) -> dict[tuple[int, int, str, str], int]:
    out: dict[tuple[int, int, str, str], int] = {}
    for a in answers:
        key = (a["org"], a["round"], a["group_name"], a["prompt"])
        out[key] = out.get(key, 0) + 1
    return out


def _channel(key: str, groups: dict[str, str]) -> list[str]:
    a, _, b = key.partition("->")
    return [groups.get(a, a), groups.get(b, b)]


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    # spreadsheet programs open comma-separated UTF-8 with CRLF line ends, as the csv module writes
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _cell(value: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _row(cells: Iterable[Any]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table(header: list[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    lines = [_row(header), "|" + "|".join(" --- " for _ in header) + "|"]
    lines.extend(_row(r) for r in rows)
    return lines


def signed(value: float) -> str:
    return f"{value:+.1f}" if abs(value) >= 0.05 else "0.0"


def markdown(told: dict[str, Any], code: str = "") -> str:
    """The debrief as a Markdown report: the counterfactual first, then the structure of each
    organisation in each round, the charts, change by lever, the timeline, conversations and answers."""
    metrics = told["metrics"]
    lines = [f"# {told['title']}", ""]
    played = f"{told['rounds_played']} of {told['rounds']} rounds played"
    lines += [f"Session {code}, {played}." if code else f"{played[0].upper()}{played[1:]}.", ""]

    lines += ["## Where each organisation ended", ""]
    lines += _table(
        ["Metric", *[o["title"] for o in told["orgs"]]],
        ([m["label"], *[f"{o['series'][k][0]:.0f} → {o['series'][k][-1]:.0f}" for o in told["orgs"]]] for k, m in metrics.items()),
    )
    lines.append("")

    lines += ["## What another structure would have done", ""]
    lines += [f"Each row compares *{told['legend']['actual']}* with *the same choices* replayed under another structure.", ""]
    for org in told["orgs"]:
        if not org["counterfactuals"]:
            continue
        lines += [f"### {org['title']}", ""]
        lines += _table(
            ["Metric", *[f"{told['legend']['actual']} / {cf['legend']}" for cf in org["counterfactuals"]]],
            (
                [
                    m["label"],
                    *[_versus(cf["metrics"][k]) for cf in org["counterfactuals"]],
                ]
                for k, m in metrics.items()
            ),
        )
        lines.append("")

    lines += ["## The structure of each organisation in each round", ""]
    rounds = max((len(o["rounds"]) for o in told["orgs"]), default=0)
    lines += _table(
        ["Round", *[o["label"] for o in told["orgs"]]],
        (
            [
                n + 1,
                *[_structure_cell(o["rounds"][n]) if n < len(o["rounds"]) else "" for o in told["orgs"]],
            ]
            for n in range(rounds)
        ),
    )
    lines.append("")

    lines += ["## Each metric over the rounds", ""]
    for k, m in metrics.items():
        lines += [f"![{m['label']}](charts/{k}.svg)", ""]

    lines += ["## Change by lever", ""]
    lines += _table(
        ["Organisation", "Metric", *told["levers"].values()],
        (
            [o["label"], m["label"], *[signed(o["by_lever"].get(k, {}).get(lv, 0.0)) for lv in told["levers"]]]
            for o in told["orgs"]
            for k, m in metrics.items()
        ),
    )
    lines.append("")

    lines += ["## Round by round: choices and requests", ""]
    for org in told["orgs"]:
        lines += [f"### {org['title']}", ""]
        for r in org["rounds"]:
            lines.append(f"**Round {r['round']}: {r['card']}** ({r['pattern_label']}{', switched' if r['switched'] else ''})")
            lines.append("")
            for g, picks in r["choices"].items():
                chose = "; ".join(f"{c['label']} ({c['count']})" for c in picks)
                lines.append(f"- {told['groups'][g]} chose: {chose}")
            for q in r["requests"]:
                lines.append(f'- {q["from_name"]} asked {q["to_name"]} to "{q["label"]}": {granted_words(q["granted"])}')
            for label in r["injects"]:
                lines.append(f"- Event: {label}")
            for text in r["earned"]:
                lines.append(f"- Structure changed by the players: {text}")
            lines.append("")

    lines += ["## Conversations", ""]
    lines += _table(
        ["Organisation", "Used channels (messages and requests)", "Silent channels"],
        (
            [
                o["label"],
                ", ".join(f"{k} {v}" for k, v in sorted(o["channels"].items(), key=lambda kv: -kv[1])) or "none",
                ", ".join(o["silent"]) or "none",
            ]
            for o in told["orgs"]
        ),
    )
    lines.append("")

    if told["answers"]:
        lines += ["## Time-out answers", ""]
        lines += _table(
            ["Round", "Organisation", "Who", "Prompt", "Answer"],
            (
                [a["round"], a["org"] + 1, (a.get("name", "") + ", " if a.get("name") else "") + a["group_name"], a["prompt"], a["text"]]
                for a in told["answers"]
            ),
        )
        lines.append("")
    if told["questions"]:
        lines += ["## Questions for the room", ""]
        lines += [f"- {q}" for q in told["questions"]]
        lines.append("")
    return "\n".join(lines)


def _versus(m: dict[str, float]) -> str:
    return f"{m['actual']:.0f} / {m['alternative']:.0f} ({signed(m['difference'])})"


def _structure_cell(r: dict[str, Any]) -> str:
    text = r["pattern_label"] + (" (switched)" if r["switched"] else "")
    if r["earned"]:
        text += "; the players changed: " + "; ".join(r["earned"])
    return text
