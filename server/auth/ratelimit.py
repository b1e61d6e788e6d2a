"""The per-key rate limit: a token bucket of `rate_limit_burst` tokens refilled at
`rate_limit_per_s`. In Redis (one bucket shared by every API process, updated atomically by a
Lua script on Redis's clock) when there is one, else in this process (the embedded default runs
one API process).

A limiter that cannot reach Redis lets requests through and says so in the log: the limit
protects the platform from a runaway client, and refusing everyone during a Redis blip would be
the bigger outage.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

from shared.config import Settings
from shared.logs import get_logger

log = get_logger(__name__)

_BUCKET_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RateLimiter(Protocol):
    # whether `acquire` does network I/O (the event loop then calls it from a thread)
    blocking: bool

    def acquire(self, identity: str) -> float:
        """Take one token: 0 when allowed, else the seconds until a token is free."""
        ...


class NoLimit:
    blocking = False

    def acquire(self, identity: str) -> float:
        return 0.0


class LocalBucket:
    blocking = False

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, identity: str) -> float:
        now = self.clock()
        with self._lock:
            tokens, updated = self._buckets.get(identity, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - updated) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            self._buckets[identity] = (tokens, now)
            return wait


class RedisBucket:
    blocking = True

    def __init__(self, url: str, rate: float, burst: int, prefix: str = "ocrp:ratelimit:") -> None:
        self.rate, self.burst, self.prefix = rate, burst, prefix
        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.script = self.client.register_script(_BUCKET_SCRIPT)

    def acquire(self, identity: str) -> float:
        try:
            wait = self.script(keys=[self.prefix + identity], args=[self.rate, self.burst])
        except redis.RedisError as exc:
            log.warning("ratelimit.redis_unavailable", error=str(exc))
            return 0.0
        return float(wait)


def make_rate_limiter(settings: Settings) -> RateLimiter:
    if settings.rate_limit_per_s <= 0:
        return NoLimit()
    burst = max(1, settings.rate_limit_burst)
    url = settings.effective_redis_url
    if url:
        return RedisBucket(url, settings.rate_limit_per_s, burst)
    return LocalBucket(settings.rate_limit_per_s, burst)


def retry_after(wait_s: float) -> int:
    return max(1, math.ceil(wait_s))
