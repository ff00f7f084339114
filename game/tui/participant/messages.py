"""What the participant's screens and panes tell the app (messages up); the app talks to
the server and sets attributes on them (attributes down)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class Chosen(Message):
    """A player picked an option (posted by the choose pane, handled by the app). It carries
    the round of the card it was picked from: if the card has changed by the time the app
    sends it, the server refuses it as stale instead of counting it for the new round."""

    option: str
    round: int


@dataclass
class Said(Message):
    to: str
    text: str


@dataclass
class Asked(Message):
    """A player asked another group for one of its options this round (``option`` is empty
    to withdraw the request to that group)."""

    to: str
    option: str
    round: int


@dataclass
class Answered(Message):
    prompt: int
    text: str


@dataclass
class Joined(Message):
    """The join screen got a seat: the app remembers it and opens the play screen."""

    url: str
    code: str
    name: str
    seat: str
    token: str


@dataclass
class GroupPicked(Message):
    """On the demo's start screen, the player picked a group to play under a pattern."""

    group: str
    pattern: str
