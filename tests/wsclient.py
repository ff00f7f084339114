"""A small test client speaking the protocol over a real websocket."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

_refs = itertools.count(1)


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []
        self.view: dict[str, Any] = {}
        self.you: dict[str, Any] = {}
        self.fview: dict[str, Any] = {}
        self.seat = ""
        self.token = ""

    @classmethod
    async def open(cls, url: str, token: str = "", headers: dict[str, str] | None = None, **kwargs: Any) -> Client:
        headers = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        ws = await connect(url, additional_headers=headers or None, open_timeout=5, **kwargs)
        return cls(ws)

    def _note(self, msg: dict[str, Any]) -> None:
        self.received.append(msg)
        kind = msg.get("type")
        if kind == "view":
            self.view = msg["view"]
        elif kind == "you":
            self.you = msg["you"]
        elif kind == "facilitator_view":
            self.fview = msg["view"]
        elif kind == "ack" and "you" in msg:
            self.you = msg["you"]
        elif kind == "clock" and self.view:
            self.view["session"].update(msg["session"])
        elif kind == "progress" and self.view:
            self.view["progress"] = {"chosen": msg["chosen"], "of": msg["of"]}

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self._note(msg)
        return msg

    async def until(self, predicate, timeout: float = 5.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            msg = await self.next(max(0.01, end - loop.time()))
            if predicate(msg):
                return msg

    async def request(self, message: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Send with an id; return the ack or error that answers it."""
        ref = next(_refs)
        await self.ws.send(json.dumps({**message, "id": ref}))
        return await self.until(lambda m: m.get("ref") == ref and m["type"] in ("ack", "error", "joined", "pong"), timeout)

    async def drain(self, quiet: float = 0.3) -> None:
        """Read until nothing arrives for ``quiet`` seconds."""
        while True:
            try:
                await self.next(quiet)
            except TimeoutError:
                return

    async def close(self) -> None:
        await self.ws.close()


async def facilitator(base: str, secret: str) -> Client:
    client = await Client.open(f"{base}/v1/facilitator", secret)
    await client.until(lambda m: m["type"] == "welcome")
    return client


async def join(base: str, code: str, name: str) -> Client:
    client = await Client.open(f"{base}/v1/join")
    await client.until(lambda m: m["type"] == "welcome")
    answer = await client.request({"type": "join", "code": code, "name": name})
    assert answer["type"] == "joined", answer
    client.seat, client.token = answer["seat"], answer["token"]
    await client.until(lambda m: m["type"] == "you")
    return client


async def rejoin(base: str, token: str) -> Client:
    client = await Client.open(f"{base}/v1/seat", token)
    await client.until(lambda m: m["type"] == "you")
    client.token = token
    client.seat = client.you["seat"]
    return client
