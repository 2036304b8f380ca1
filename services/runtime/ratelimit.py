"""Requests per client in a moving window (the `limits` library, in memory): one client
flooding a service cannot starve the others. Each replica counts on its own, so the limit a
client meets is per replica; that bounds abuse without a shared store to run."""

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from services.runtime.http import Problem


class ClientLimiter:
    def __init__(self, rule: str):
        """`rule` in the limits notation, e.g. "600/minute"; empty turns limiting off."""
        self.item: RateLimitItem | None = parse(rule) if rule else None
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, client: str) -> None:
        """Count one request of `client`; 429 with Retry-After once it is over the limit."""
        if self.item is None or self.limiter.hit(self.item, client):
            return
        reset = self.limiter.get_window_stats(self.item, client).reset_time
        raise Problem(
            429,
            "rate_limited",
            "请求过于频繁，请稍后再试",
            "Too many requests; try again later",
            headers={"Retry-After": str(max(1, math.ceil(reset - time.time())))},
        )
