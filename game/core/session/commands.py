"""Who acts, and the commands that no frame carries.

The commands participants and the facilitator send are the protocol's classes
(:mod:`game.core.protocol`), decided on as they arrive. These two are made by the server.
"""

from __future__ import annotations

from typing import ClassVar

from attrs import frozen


@frozen
class Actor:
    kind: str  # "facilitator", "seat" or "system"
    seat: str = ""
    address: str = ""


FACILITATOR = Actor("facilitator")
SYSTEM = Actor("system")


@frozen
class TakeSeat:
    """A join whose code the server has checked: the seat id and the hash of the seat's
    token are made by the server, the name comes from the participant."""

    TYPE: ClassVar[str] = "join"
    name: str
    seat: str
    token_hash: str
    join_key: str = ""  # the hash of the client's join id, if it sent one
    device_key: str = ""  # the hash of the client's device id, if it sent one


@frozen
class Deadline:
    """The phase timer ran out; stale if the phase, round or deadline moved meanwhile."""

    TYPE: ClassVar[str] = "deadline"
    phase: str
    round: int
