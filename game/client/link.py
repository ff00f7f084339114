"""The reconnecting protocol client used by the participant app and the facilitator console.

A :class:`Link` keeps one WebSocket open to one endpoint, reconnecting with back-off when
the network or the server goes away, and reports every incoming message and every change
of connection state through callbacks. Requests carry an ``id``; their ``ack`` or
``error`` resolves the awaiting caller; an ``error`` raises :class:`RequestRefused`.
Seat tokens are kept by :class:`game.client.seats.SeatStore`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from game.core.protocol import CLOSE_ENDED, CLOSE_KICKED, CLOSE_REPLACED

# Close codes after which reconnecting makes no sense
REMOVED = "The facilitator removed you from the session."
ENDED = "The session has ended."
FINAL_CLOSES = {
    CLOSE_KICKED: REMOVED,
    CLOSE_REPLACED: "This seat was opened in another window.",
    CLOSE_ENDED: ENDED,
}


class NotConnected(Exception):
    """Raised by :meth:`Link.request` while the link is down."""


class RequestRefused(Exception):
    """The server answered a request with an error (its ``code`` and ``message``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def normalise_url(url: str) -> str:
    """'host', 'host:8765' or 'ws://host:8765/' -> 'ws://host:8765'."""
    url = url.strip().rstrip("/")
    if not url:
        raise ValueError("type the server's address, such as 192.168.1.20:8765")
    if "://" not in url:
        url = "ws://" + url
    scheme, rest = url.split("://", 1)
    if scheme not in ("ws", "wss"):
        raise ValueError(f'the address starts with "{scheme}://"; use ws:// or wss://')
    if ":" not in rest.split("/")[0]:
        rest = rest.split("/")[0] + ":8765" + rest[len(rest.split("/")[0]) :]
    return f"{scheme}://{rest}"


class Link:
    """One endpoint, kept open. States: "connecting", "connected", "reconnecting", "closed"."""

    def __init__(
        self,
        url: str,
        path: str,
        *,
        token: str = "",
        on_message: Callable[[dict[str, Any]], None],
        on_state: Callable[[str, str], None],
        max_backoff: float = 5.0,
    ) -> None:
        self.url = normalise_url(url) + path
        self.token = token
        self.on_message = on_message
        self.on_state = on_state
        self.max_backoff = max_backoff
        self.ws: ClientConnection | None = None
        self.state = "connecting"
        self.reason = ""
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.refs = itertools.count(1)
        self.stopped = False

    def _set(self, state: str, reason: str = "") -> None:
        if (state, reason) == (self.state, self.reason):
            return  # each failed attempt to reconnect is not news
        self.state, self.reason = state, reason
        self.on_state(state, reason)

    async def run(self) -> None:
        """Connect and stay connected until :meth:`stop` or a final close."""
        backoff = 0.3
        while not self.stopped:
            try:
                headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
                async with connect(
                    self.url,
                    additional_headers=headers,
                    open_timeout=5,
                    max_size=2**24,
                    compression=None,
                    ping_interval=10,
                    ping_timeout=10,
                ) as ws:
                    self.ws = ws
                    backoff = 0.3
                    self._set("connected")
                    async for frame in ws:
                        self._dispatch(json.loads(frame))
                code = ws.close_code
                if code in FINAL_CLOSES:
                    self._finish(FINAL_CLOSES[code])
                    return
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403, 404):
                    body = exc.response.body.decode(errors="replace").strip() if exc.response.body else ""
                    self._finish(body or f"The server refused the connection ({status}).")
                    return
            except ConnectionClosed as exc:
                if exc.rcvd and exc.rcvd.code in FINAL_CLOSES:
                    self._finish(FINAL_CLOSES[exc.rcvd.code])
                    return
            except InvalidURI:
                self._finish(f"{self.url} is not a valid address.")
                return
            except (OSError, InvalidHandshake, TimeoutError):
                pass
            self.ws = None
            self._fail_waiting()
            if self.stopped:
                break
            self._set("reconnecting", "The server is not reachable; trying again...")
            await asyncio.sleep(backoff)
            backoff = min(self.max_backoff, backoff * 2)
        self._set("closed")

    def _finish(self, reason: str) -> None:
        self.stopped = True
        self.ws = None
        self._fail_waiting()
        self._set("closed", reason)

    def _fail_waiting(self) -> None:
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(NotConnected("the connection dropped before the server answered"))
        self.waiting.clear()

    def _dispatch(self, message: dict[str, Any]) -> None:
        ref = message.get("ref")
        future = self.waiting.pop(ref, None) if ref is not None else None
        if future is not None and not future.done():
            future.set_result(message)
        self.on_message(message)

    async def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send and wait for the answer; raises :class:`RequestRefused` or :class:`NotConnected`."""
        ws = self.ws
        if ws is None:
            raise NotConnected("not connected to the server")
        ref = next(self.refs)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[ref] = future
        try:
            await ws.send(json.dumps({**message, "id": ref}))
        except ConnectionClosed:
            self.waiting.pop(ref, None)
            raise NotConnected("not connected to the server") from None
        answer = await asyncio.wait_for(future, timeout)
        if answer.get("type") == "error":
            raise RequestRefused(answer.get("code", ""), answer.get("message", ""))
        return answer

    async def stop(self) -> None:
        self.stopped = True
        if self.ws is not None:
            await self.ws.close()


async def join_session(url: str, code: str, name: str, timeout: float = 10.0, attempts: int = 3, device: str = "") -> dict[str, Any]:
    """Join with a code and a name; return the ``joined`` message (seat and token).

    The join carries a random join id: if the connection drops before ``joined`` arrives, the
    retry (up to ``attempts`` in all) gets the same seat and token, never a second seat.
    ``device`` is the machine's kept id (:meth:`SeatStore.device`), if it has one.
    Raises :class:`RequestRefused` with the server's reason, or :class:`NotConnected`.
    """
    join_id = secrets.token_urlsafe(24)
    for attempt in range(attempts):
        try:
            try:
                return await _join_once(url, code, name, join_id, timeout, device)
            except RequestRefused as exc:
                # a server older than this client does not know the device field: join without it
                if device and exc.code == "bad_field" and 'unknown key "device"' in exc.message:
                    device = ""
                    return await _join_once(url, code, name, join_id, timeout)
                raise
        except NotConnected:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    raise NotConnected(f"cannot reach a Crossroads server at {url}")


async def _join_once(url: str, code: str, name: str, join_id: str, timeout: float, device: str = "") -> dict[str, Any]:
    target = normalise_url(url) + "/v1/join"
    try:
        async with connect(target, open_timeout=timeout, compression=None) as ws:
            await asyncio.wait_for(ws.recv(), timeout)
            join = {"type": "join", "code": code.strip(), "name": name, "join_id": join_id, "id": 1}
            if device:
                join["device"] = device
            await ws.send(json.dumps(join))
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                if message.get("type") == "joined":
                    return message
                if message.get("type") == "error":
                    raise RequestRefused(message["code"], message["message"])
    except InvalidStatus as exc:
        body = exc.response.body.decode(errors="replace").strip() if exc.response.body else ""
        raise RequestRefused("refused", body or f"the server refused ({exc.response.status_code})") from None
    except InvalidURI:
        raise NotConnected(f"{url} is not a valid address") from None
    except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed):
        raise NotConnected(f"cannot reach a Crossroads server at {url}") from None
