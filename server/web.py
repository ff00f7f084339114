"""The browser's way in, on the server's own port: the participant page's static files, answered
to plain HTTP GETs from ``process_request``, and the subprotocol a browser's WebSocket speaks.

Browsers cannot set an ``Authorization`` header on a WebSocket, so a page sends its seat token
as a second subprotocol, ``token.<TOKEN>``, beside ``crossroads.v1``; the server selects
``crossroads.v1`` and never echoes the token (docs/protocol.md). The files are the ones shipped in
:mod:`game.web`; only those are served, so no path can reach outside that folder.
"""

from __future__ import annotations

import email.utils
import functools
import re
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.datastructures import Headers
from websockets.http11 import Response

import game.web

PAGE_DIR = Path(game.web.__file__).resolve().parent
SUBPROTOCOL = "crossroads.v1"
TOKEN_PREFIX = "token."
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# what a Host header may hold before it is written into the page's policy: a name or an address and a port
HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def page_files(folder: Path = PAGE_DIR) -> dict[str, Path]:
    """URL path -> file, for every file of the page: a fixed list taken from the folder, so a
    request names one of these or nothing (no ``..``, no symbolic link out of the folder)."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.is_symlink() and path.suffix in TYPES:
            files["/" + path.name] = path
    if "/index.html" in files:
        files["/"] = files["/index.html"]
    return files


def select_subprotocol(connection: Any, offered: Sequence[str]) -> str | None:
    """``serve(select_subprotocol=...)``: a browser offering ``crossroads.v1`` gets it; a client
    that offers nothing (the terminal app) goes on without a subprotocol."""
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


def token_from_subprotocols(headers: Headers) -> str:
    """The seat token a browser offered as the subprotocol ``token.<TOKEN>``, or ""."""
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        for item in value.split(","):
            item = item.strip()
            if item.startswith(TOKEN_PREFIX):
                return item[len(TOKEN_PREFIX) :]
    return ""


def is_websocket(request: Any) -> bool:
    return "websocket" in request.headers.get("Upgrade", "").lower()


def security_headers(host: str) -> list[tuple[str, str]]:
    """A strict policy: scripts, styles and images from this server only, no inline script, and
    WebSockets to this same host."""
    connect = f"'self' ws://{host} wss://{host}" if HOST.match(host) else "'self'"
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cache-Control", "no-cache"),
    ]


class Page:
    """The participant page's files, read once, answered to GETs."""

    def __init__(self, folder: Path = PAGE_DIR) -> None:
        self.files = {url: (path.read_bytes(), TYPES[path.suffix]) for url, path in page_files(folder).items()}

    def respond(self, request: Any) -> Response:
        """The file a GET names (the query and fragment are ignored), or 404 with a clear sentence."""
        path = request.path.split("?", 1)[0].split("#", 1)[0]
        found = self.files.get(path)
        host = request.headers.get("Host", "")
        if found is None:
            body = "nothing here; open / for the participant page, or connect a WebSocket to /v1/join, /v1/seat or /v1/facilitator\n"
            status, kind = HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8"
            content = body.encode()
        else:
            status = HTTPStatus.OK
            content, kind = found
        headers = Headers(
            [
                ("Date", email.utils.formatdate(usegmt=True)),
                ("Connection", "close"),
                ("Content-Type", kind),
                ("Content-Length", str(len(content))),
                *security_headers(host),
            ]
        )
        return Response(status.value, status.phrase, headers, content)


@functools.cache
def page() -> Page:
    """The page of this installation, read on the first GET."""
    return Page()
