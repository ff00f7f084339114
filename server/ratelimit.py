"""Rate limits: a token bucket per connection for frames, and one per address for wrong join
codes (the brute-force threat: a successful join costs nothing, so a room behind one address
joins at once)."""

from __future__ import annotations

import time

MAX_ADDRESSES = 10_000  # beyond this many remembered addresses, start afresh rather than grow


class RateLimit:
    """A token bucket: ``rate`` per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()
        self.denied = 0  # frames refused for flooding; past the flood limit the connection is closed

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now

    def allow(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def empty(self) -> bool:
        """Whether the next :meth:`allow` would refuse (without spending anything)."""
        self._refill()
        return self.tokens < 1


class FailedJoins:
    """Wrong join codes per client address: ``per_minute``, in bursts of as many."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.limits: dict[str, RateLimit] = {}

    def _limit(self, address: str) -> RateLimit:
        limit = self.limits.get(address)
        if limit is None:
            if len(self.limits) > MAX_ADDRESSES:
                self.limits.clear()
            limit = self.limits[address] = RateLimit(self.per_minute / 60, self.per_minute)
        return limit

    def failed(self, address: str) -> bool:
        """Count a wrong code from ``address``; False once it has had too many."""
        return self._limit(address).allow()

    def blocked(self, address: str) -> bool:
        """Whether ``address`` has used up its wrong codes for now."""
        limit = self.limits.get(address)
        return limit is not None and limit.empty()
