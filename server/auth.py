"""Who a connection is, decided in the handshake, before it is accepted.

The facilitator shows the secret kept in the data folder; a seat shows its own token; anyone
may open /v1/join, unless their address has sent too many wrong codes or already holds too
many connections that have not joined. Identity then comes from the connection, never from a
payload. The client's address is the socket's peer, or the ``X-Forwarded-For`` entry added by
a proxy the operator trusts (``--trusted-proxy``), never a header from anyone else.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection

from server import web
from server.ratelimit import FailedJoins

SECRET_FILE = "facilitator.secret"
PROJECTOR_FILE = "projector.secret"  # a read-only token for the room's screen


class Admitted(NamedTuple):
    """What the handshake let in: the role, the seat and its session's code (for a seat), and
    the client's address."""

    role: str  # "facilitator" | "projector" | "seat" | "join" | "" (not admitted)
    seat: str = ""
    code: str = ""
    address: str = ""


def private_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents) and let nobody but its owner in: it holds names,
    messages, answers and the facilitator's secret."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.stat().st_mode & 0o777 != 0o700:
        os.chmod(folder, 0o700)


def load_or_create_secret(data_dir: Path, name: str = SECRET_FILE) -> str:
    """The facilitator secret (or, by ``name``, the projector token), created with ``secrets``
    on first start, readable only by its owner."""
    private_folder(data_dir)
    path = data_dir / name
    if path.exists():
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return path.read_text().strip()
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(proxies: Iterable[str]) -> tuple[Network, ...]:
    """``--trusted-proxy`` values (addresses or networks such as 10.0.0.0/8) as networks;
    ValueError names a bad one."""
    out = []
    for proxy in proxies:
        try:
            out.append(ipaddress.ip_network(proxy.strip(), strict=False))
        except ValueError:
            raise ValueError(f'"{proxy}" is not an IP address or network (such as 10.0.0.5 or 10.0.0.0/8)') from None
    return tuple(out)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: str, proxies: tuple[Network, ...]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy; then the nearest
    ``X-Forwarded-For`` entry that is not itself a trusted proxy (entries further left were
    written by the client and prove nothing)."""
    if not proxies or not _trusted(peer, proxies) or not forwarded_for:
        return peer
    for entry in reversed([e.strip() for e in forwarded_for.split(",") if e.strip()]):
        if not _trusted(entry, proxies):
            try:
                return str(ipaddress.ip_address(entry))
            except ValueError:
                return peer  # a proxy we trust wrote nonsense: count its own address
    return peer


class Gate:
    """``process_request`` for the server: authenticates each handshake and remembers what it
    let in, for the handler to take; counts connections per address that have not joined."""

    def __init__(
        self,
        secret: str,
        failed_joins: FailedJoins,
        seat_by_token: Callable[[str], tuple[str, str] | None],
        *,
        pending_per_address: int = 50,
        trusted_proxies: tuple[Network, ...] = (),
        projector: str = "",
    ) -> None:
        self.secret = secret
        self.projector = projector
        self.failed_joins = failed_joins
        self.seat_by_token = seat_by_token  # token -> (join code, seat id)
        self.pending_per_address = pending_per_address
        self.trusted_proxies = trusted_proxies
        self.admitted: dict[ServerConnection, Admitted] = {}
        self.pending: Counter[str] = Counter()  # address -> /v1/join connections that have not joined
        self.pending_conns: dict[ServerConnection, str] = {}

    def process_request(self, connection: ServerConnection, request: Any) -> Any:
        path = urlsplit(request.path).path
        auth = request.headers.get("Authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        peer = connection.remote_address[0] if connection.remote_address else ""
        address = client_address(peer, request.headers.get("X-Forwarded-For", ""), self.trusted_proxies)
        if path == "/v1/facilitator":
            if not bearer or not hmac.compare_digest(bearer.encode(), self.secret.encode()):
                return connection.respond(HTTPStatus.UNAUTHORIZED, "the facilitator secret is missing or wrong\n")
            self.admitted[connection] = Admitted("facilitator", address=address)
        elif path == "/v1/projector":
            # the room's screen: the projector token, or the facilitator's secret, which may do more
            tokens = [t for t in (self.projector, self.secret) if t]
            if not bearer or not any(hmac.compare_digest(bearer.encode(), t.encode()) for t in tokens):
                return connection.respond(HTTPStatus.UNAUTHORIZED, "the projector token is missing or wrong\n")
            code = parse_qs(urlsplit(request.path).query).get("code", [""])[0].strip().upper()
            self.admitted[connection] = Admitted("projector", code=code, address=address)
        elif path == "/v1/seat":
            token = bearer or web.token_from_subprotocols(request.headers)  # a browser's way (server/web.py)
            found = self.seat_by_token(token) if token else None
            if found is None:
                return connection.respond(HTTPStatus.UNAUTHORIZED, "unknown or revoked seat token; join again with the code\n")
            code, seat = found
            self.admitted[connection] = Admitted("seat", seat, code, address)
        elif path == "/v1/join":
            if self.failed_joins.blocked(address):
                return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "too many wrong join codes from this address; wait a minute\n")
            if self.pending[address] >= self.pending_per_address:
                return connection.respond(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    "too many connections from this address are open without having joined; join on one of them, or wait\n",
                )
            self.pending[address] += 1
            self.pending_conns[connection] = address
            self.admitted[connection] = Admitted("join", address=address)
        elif not web.is_websocket(request):
            return web.page().respond(request)  # the participant page, for browsers
        else:
            return connection.respond(HTTPStatus.NOT_FOUND, "connect to /v1/join, /v1/seat, /v1/facilitator or /v1/projector\n")
        return None

    def take(self, connection: ServerConnection) -> Admitted:
        """What the handshake let ``connection`` in as (once)."""
        return self.admitted.pop(connection, Admitted(""))

    def settled(self, connection: ServerConnection) -> None:
        """``connection`` joined or closed: it no longer counts as waiting at the door."""
        address = self.pending_conns.pop(connection, None)
        if address is not None:
            self.pending[address] -= 1
            if self.pending[address] <= 0:
                del self.pending[address]
