"""Rate limits: a token bucket per connection for frames, and one per address for joins."""

from __future__ import annotations

import time

from websockets.asyncio.server import ServerConnection

MAX_ADDRESSES = 10_000  # beyond this many remembered addresses, start afresh rather than grow


class RateLimit:
    """A token bucket: ``rate`` per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()
        self.denied = 0  # frames refused for flooding; past 100 the connection is closed

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class JoinLimits:
    """Join attempts per address (a handshake on /v1/join and every wrong code count)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.limits: dict[str, RateLimit] = {}

    def allow(self, connection: ServerConnection) -> bool:
        address = connection.remote_address[0] if connection.remote_address else ""
        limit = self.limits.get(address)
        if limit is None:
            if len(self.limits) > MAX_ADDRESSES:
                self.limits.clear()
            limit = self.limits[address] = RateLimit(self.per_minute / 60, self.per_minute)
        return limit.allow()
