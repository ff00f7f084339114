"""Who a connection is, decided in the handshake, before it is accepted.

The facilitator shows the secret kept in the data folder; a seat shows its own token; anyone
may open /v1/join, within the join limit per address. Identity then comes from the connection,
never from a payload.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection

from game.core.session import Seat
from server.ratelimit import JoinLimits

SECRET_FILE = "facilitator.secret"
PROJECTOR_FILE = "projector.secret"  # a read-only token for the room's screen

Role = tuple[str, str]  # ("facilitator" | "projector" | "seat" | "join", seat id)


def load_or_create_secret(data_dir: Path, name: str = SECRET_FILE) -> str:
    """The facilitator secret (or, by ``name``, the projector token), created with ``secrets``
    on first start, readable only by its owner."""
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret


class Gate:
    """``process_request`` for the server: authenticates each handshake and remembers the role
    of each connection it lets through, for the handler to take."""

    def __init__(self, secret: str, joins: JoinLimits, seat_by_token: Callable[[str], Seat | None], projector: str = "") -> None:
        self.secret = secret
        self.projector = projector
        self.joins = joins
        self.seat_by_token = seat_by_token
        self.roles: dict[ServerConnection, Role] = {}

    def process_request(self, connection: ServerConnection, request: Any) -> Any:
        path = urlsplit(request.path).path
        auth = request.headers.get("Authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if path == "/v1/facilitator":
            if not bearer or not hmac.compare_digest(bearer.encode(), self.secret.encode()):
                return connection.respond(HTTPStatus.UNAUTHORIZED, "the facilitator secret is missing or wrong\n")
            self.roles[connection] = ("facilitator", "")
        elif path == "/v1/projector":
            # the room's screen: the projector token, or the facilitator's secret, which may do more
            tokens = [t for t in (self.projector, self.secret) if t]
            if not bearer or not any(hmac.compare_digest(bearer.encode(), t.encode()) for t in tokens):
                return connection.respond(HTTPStatus.UNAUTHORIZED, "the projector token is missing or wrong\n")
            self.roles[connection] = ("projector", "")
        elif path == "/v1/seat":
            seat = self.seat_by_token(bearer) if bearer else None
            if seat is None:
                return connection.respond(HTTPStatus.UNAUTHORIZED, "unknown or revoked seat token; join again with the code\n")
            self.roles[connection] = ("seat", seat.id)
        elif path == "/v1/join":
            if not self.joins.allow(connection):
                return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "too many join attempts from this address; wait a minute\n")
            self.roles[connection] = ("join", "")
        else:
            return connection.respond(HTTPStatus.NOT_FOUND, "connect to /v1/join, /v1/seat, /v1/facilitator or /v1/projector\n")
        return None

    def take_role(self, connection: ServerConnection) -> Role:
        """The role the handshake gave ``connection`` (once)."""
        return self.roles.pop(connection, ("", ""))
