"""A per-client budget of cost points in Redis: Shopify's leaky bucket.

Each client has a bucket holding up to `capacity` points that drains at `restore_rate` points per
second. An operation adds its cost; if the bucket would overflow, the operation is refused with
the seconds until enough has drained. One Lua script per check keeps it atomic across processes,
and Redis's own clock keeps API processes on different hosts in agreement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from redis.asyncio import Redis

_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'level', 'ts')
local level = tonumber(state[1]) or 0
local ts = tonumber(state[2]) or now
level = math.max(0, level - math.max(0, now - ts) * rate)
local allowed = 0
if level + cost <= capacity then
  level = level + cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(level / rate * 1000) + 1000)
return {allowed, tostring(level)}
"""


@dataclass(frozen=True, slots=True)
class BucketStatus:
    allowed: bool
    capacity: int
    restore_rate: int
    available: int
    retry_after: int  # seconds until the refused cost would fit; 0 when allowed

    def as_extension(self) -> dict[str, int]:
        return {
            "maximumAvailable": self.capacity,
            "currentlyAvailable": self.available,
            "restoreRate": self.restore_rate,
        }


async def charge(
    redis: Redis, key: str, cost: int, *, capacity: int, restore_rate: int
) -> BucketStatus:
    script = redis.register_script(_SCRIPT)
    allowed, level_text = await script(keys=[key], args=[capacity, restore_rate, cost])
    level = float(level_text)
    ok = bool(int(allowed))
    retry = 0 if ok else math.ceil((level + cost - capacity) / restore_rate)
    return BucketStatus(
        allowed=ok,
        capacity=capacity,
        restore_rate=restore_rate,
        available=max(0, math.floor(capacity - level)),
        retry_after=max(1, retry) if not ok else 0,
    )
