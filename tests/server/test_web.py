"""The page on the server's own port, and the browser's way to show a seat token, over real sockets."""

from __future__ import annotations

import asyncio
import re

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from server.hub import Hub
from server.web import PAGE_DIR, page_files
from tests.server.test_server import base
from tests.wsclient import Client, facilitator, join

PAGE_BUDGET = 150 * 1024


async def get(hub: Hub, path: str) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP GET, sent byte for byte as given (no client tidies the path)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{hub.port}\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


async def test_the_page_is_served_with_a_strict_policy(hub):
    status, headers, body = await get(hub, "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert body == (PAGE_DIR / "index.html").read_bytes()
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert f"connect-src 'self' ws://127.0.0.1:{hub.port} wss://127.0.0.1:{hub.port};" in policy
    assert headers["x-content-type-options"] == "nosniff"
    status, headers, body = await get(hub, "/app.js?v=1")
    assert status == 200 and headers["content-type"] == "text/javascript; charset=utf-8"
    assert body == (PAGE_DIR / "app.js").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/..%2f..%2fpyproject.toml",
        "/%2e%2e/server/web.py",
        "//etc/passwd",
        "/__init__.py",
        "/game/web/app.js",
        "/web/",
    ],
)
async def test_nothing_outside_the_page_is_served(hub, path):
    status, headers, body = await get(hub, path)
    assert status == 404
    assert b"open / for the participant page" in body
    assert headers["x-content-type-options"] == "nosniff"


async def test_a_hostile_host_header_never_reaches_the_policy(hub):
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: evil.example; script-src *\r\n\r\n")
    await writer.drain()
    raw = (await asyncio.wait_for(reader.read(), 5)).decode(errors="replace")
    writer.close()
    policy = re.search(r"(?i)content-security-policy: ([^\r]*)", raw).group(1)
    assert "connect-src 'self';" in policy and "evil" not in policy


def test_the_page_stays_small_and_loads_nothing_from_another_host():
    files = page_files()
    assert {"/", "/index.html", "/app.js", "/style.css", "/icon.svg"} <= set(files)
    assert sum(path.stat().st_size for url, path in files.items() if url != "/") <= PAGE_BUDGET
    for url, path in files.items():
        text = path.read_text()
        # the only address in the page is SVG's namespace, a name that is never fetched
        assert not [a for a in re.findall(r"(?:https?|wss?)://[^\s\"'`)]+", text) if a != "http://www.w3.org/2000/svg"], url
    app = (PAGE_DIR / "app.js").read_text()
    assert "innerHTML" not in app and "outerHTML" not in app and "insertAdjacentHTML" not in app and "eval(" not in app


async def test_a_browser_shows_its_seat_token_as_a_subprotocol(hub):
    fac = await facilitator(base(hub), hub.secret)
    code = (await fac.request({"type": "create_session", "deck": "interlodge"}))["code"]
    # a browser joins offering crossroads.v1: it gets it, and plays on the same connection
    ws = await connect(f"{base(hub)}/v1/join", subprotocols=["crossroads.v1"], open_timeout=5)
    assert ws.subprotocol == "crossroads.v1"
    browser = Client(ws)
    await browser.until(lambda m: m["type"] == "welcome")
    joined = await browser.request({"type": "join", "code": code, "name": "Ana"})
    token = joined["token"]
    await browser.close()
    # back to the seat with the token as the second subprotocol; the server never echoes it
    ws = await connect(f"{base(hub)}/v1/seat", subprotocols=["crossroads.v1", f"token.{token}"], open_timeout=5)
    assert ws.subprotocol == "crossroads.v1"
    assert token not in str(ws.response.headers)
    seat = Client(ws)
    welcome = await seat.until(lambda m: m["type"] == "welcome")
    assert welcome["seat"] == joined["seat"]
    await seat.until(lambda m: m["type"] == "you")
    assert seat.you["name"] == "Ana"
    await seat.close()
    # the terminal's way (Authorization, no subprotocol) still works beside it
    terminal = await join(base(hub), code, "Ben")
    assert terminal.ws.subprotocol is None


async def test_an_unknown_token_in_a_subprotocol_is_refused(hub):
    fac = await facilitator(base(hub), hub.secret)
    await fac.request({"type": "create_session", "deck": "interlodge"})
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"{base(hub)}/v1/seat", subprotocols=["crossroads.v1", "token.not-a-seat"], open_timeout=5)
    assert refused.value.response.status_code == 401
    assert b"unknown or revoked seat token" in refused.value.response.body
