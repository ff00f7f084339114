"""Checks several deciders share: a seat that is still in the game, an organisation's index, a group."""

from __future__ import annotations

from typing import Any

from game.core.deck import GROUPS
from game.core.session.errors import Refused
from game.core.session.state import Seat, Session


def active_seat(session: Session, seat_id: Any) -> Seat:
    seat = session.seats.get(seat_id)
    if seat is None or seat.kicked:
        raise Refused("not_found", f'no seat "{seat_id}"')
    return seat


def org_index(session: Session, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(session.orgs):
        raise Refused("bad_field", f"org must be a number from 0 to {len(session.orgs) - 1}")
    return value


def group_name(value: Any) -> str:
    if value not in GROUPS:
        raise Refused("bad_field", f"group must be one of {', '.join(GROUPS)}")
    return value
