"""The participant's sentences about requests and structure, built from the group view: who
asks whom for what, what was granted, what changed in the structure and who listens now."""

from __future__ import annotations

from typing import Any

from rich.console import Group as RichGroup
from rich.text import Text

from game.tui.shared.text import LEVER_NAMES, LEVER_STYLES, literal

# Hints for the line under the panes, in the participant's own words (keys included)
HINTS = {
    "lobby": "Waiting for the facilitator to start. Press t to write to your group.",
    "brief": "Read your side of the situation. Press t to draft a message; it can be sent when talk opens.",
    "talk": "Talk along the open channels: t writes (Enter sends, Esc leaves the box), r asks another group.",
    "choose": "Pick one option with ↑/↓ and Enter; r asks another group. You can change it until the timer ends.",
    "resolve": "The round is being resolved...",
    "reveal": "See what changed, and why.",
    "timeout": "Reflect: your answers are sent as you type (Ctrl+S sends them now).",
    "debrief": "The whole system, as everyone played it.",
    "ended": "The session has ended. Thank you for playing.",
}


def lower_name(name: str) -> str:
    """A group's name inside a sentence: "the duty managers" (names written as one word in
    capitals, such as "Tops", are kept)."""
    return "the " + name[:1].lower() + name[1:] if name[:1].isupper() and not name.isupper() else name


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def asker(request: dict[str, Any], groups: dict[str, str]) -> str:
    """Who asked: the names of the players, or the group when a bot of an unplayed group asked."""
    names = request.get("names") or []
    group = groups.get(request["from"], request["from"])
    if not names:
        return lower_name(group)
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{who} ({group})"


def request_lines(view: dict[str, Any], me: str = "") -> list[Text]:
    """This round's open requests to and from the group, as sentences."""
    own, groups = view["group"], view["groups"]
    to_us = [r for r in view.get("requests", []) if r["to"] == own and "granted" not in r]
    from_us = [r for r in view.get("requests", []) if r["from"] == own and "granted" not in r]
    lines = []
    for r in to_us:
        many = len(r.get("names") or []) != 1  # several players, or a whole group's bot
        lines.append(
            Text.assemble(
                ("⚑ ", "bold yellow"),
                literal(capitalised(asker(r, groups)), "bold"),
                " ask you to: " if many else " asks you to: ",
                literal(r["label"], "bold yellow"),
            )
        )
    for r in from_us:
        mine = me and me in (r.get("names") or [])
        who = "You asked " if mine else f"{asker(r, groups)} asked "
        lines.append(
            Text.assemble(("→ ", "cyan"), who, literal(lower_name(groups.get(r["to"], r["to"]))), " to: ", literal(r["label"], "cyan"))
        )
    return lines


def asked_for(view: dict[str, Any]) -> dict[str, list[str]]:
    """For each of the group's options, who asked for it this round."""
    own, groups = view["group"], view["groups"]
    out: dict[str, list[str]] = {}
    for r in view.get("requests", []):
        if r["to"] == own and "granted" not in r:
            out.setdefault(r["option"], []).append(asker(r, groups))
    return out


def my_requests(view: dict[str, Any], me: str) -> dict[str, dict[str, Any]]:
    """The requests this player has open, by the group asked."""
    return {r["to"]: r for r in view.get("requests", []) if r["from"] == view["group"] and me in (r.get("names") or [])}


def granted_lines(view: dict[str, Any]) -> list[Text]:
    """At the reveal: each request of the round and whether the asked group granted it."""
    groups = view["groups"]
    lines = []
    for r in view.get("requests", []):
        if "granted" not in r:
            continue
        share = r["granted"]
        if share >= 0.999:
            mark = ("✔ granted", "bold green")
        elif share > 0:
            mark = (f"◐ partly granted ({share:.0%} of them chose it)", "yellow")
        else:
            mark = ("✘ not granted", "bold red")
        own = view["group"]
        who = "Your group" if r["from"] == own else capitalised(lower_name(groups.get(r["from"], r["from"])))
        whom = "your group" if r["to"] == own else lower_name(groups.get(r["to"], r["to"]))
        lines.append(Text.assemble(literal(who, "bold"), " asked ", literal(whom), " to: ", literal(r["label"], "italic"), "  ", mark))
    return lines


def shift_lines(view: dict[str, Any]) -> list[Text]:
    """At the reveal: each change of the structure the round made, with its lever and why."""
    lines = []
    for s in view.get("shifts") or []:
        lever = s.get("lever", "other")
        lines.append(
            Text.assemble(
                ("  ⇄ ", "bold cyan"),
                literal(s["text"], "bold"),
                "  ",
                (f"[{LEVER_NAMES.get(lever, lever)}, from round {s['round'] + 1}]", LEVER_STYLES.get(lever, "")),
                "  ",
                literal(s.get("explain", ""), "italic"),
            )
        )
    return lines


def listeners(weights: dict[str, float], groups: dict[str, str]) -> str:
    shown = [f"{groups.get(g, g)} {w:.0%}" for g, w in sorted(weights.items(), key=lambda kv: -kv[1]) if w > 0]
    return ", ".join(shown) or "nobody"


def structure_summary(view: dict[str, Any], compact: bool = False) -> Text:
    """The structure the group lives in now: whom it reaches, who acts on what it says, and how
    often play has changed it."""
    pattern, groups = view["pattern"], view["groups"]
    reach = ", ".join(groups.get(g, g) for g in pattern["talk_to"]) or "only your own group"
    closed = ", ".join(groups.get(g, g) for g in pattern["closed_to"]) or "none"
    earned = pattern.get("earned", 0)
    parts: list[Any] = [
        ("Structure: ", "bold"),
        literal(pattern["label"]),
        (f"  (changed {earned}× in play)" if earned else "", "bold cyan"),
        "\n",
        ("You reach: ", "bold"),
        literal(reach),
        "\n",
        ("Acts on what you say: ", "bold"),
        literal(listeners(pattern.get("heard_by", {}), groups)),
    ]
    if not compact:
        parts += ["\n", ("You hear from: ", "bold"), literal(", ".join(groups.get(g, g) for g in pattern["hear_from"]) or "nobody")]
    parts += ["\n", ("Closed to you: ", "bold red"), literal(closed, "red")]
    return Text.assemble(*parts)


def reveal_news(view: dict[str, Any]) -> RichGroup:
    """The reveal's requests (granted or not) and the changes to the structure."""
    parts: list[Any] = []
    granted = granted_lines(view)
    if granted:
        parts += [Text("\nRequests this round", style="bold"), *granted]
    shifts = shift_lines(view)
    parts.append(Text("\nChanges to the structure", style="bold"))
    parts += shifts or [Text("  None this round.", style="dim")]
    return RichGroup(*parts)


def structure_now(view: dict[str, Any]) -> RichGroup:
    """The structure the group lives in from now on."""
    return RichGroup(Text("\nYour structure now", style="bold"), structure_summary(view))
