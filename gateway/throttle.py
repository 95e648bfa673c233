"""A per-client budget of cost points in Redis: Shopify's leaky bucket.

Each client has a bucket holding up to `capacity` points that drains at `restore_rate` points per
second. An operation adds its cost; if the bucket would overflow, the operation is refused with
the seconds until enough has drained. One Lua script per check keeps it atomic across processes,
and Redis's own clock keeps API processes on different hosts in agreement.

A round trip per request is a tenth of a warm feed page's cost, so a process that finds room
takes a small lease (`lease` points, up to 16 requests' worth and 1/16 of the bucket) and spends
it locally (`CostLeases`). Near the limit the bucket grants only the exact cost, so refusals stay
exact; a lease left unspent counts as spent, which errs on the strict side by at most one lease
per client and process. Since an unspent lease can only make the limit stricter, its lifetime
bounds memory and the staleness of the reported `currentlyAvailable`, not the limit: it is long
enough (30 s) to span a person's session of requests, which come seconds apart, not within one
second (a one-second lease was renewed on nearly every request of the benchmark's 1,000
rotating viewers).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis

_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local lease = tonumber(ARGV[4] or ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'level', 'ts')
local level = tonumber(state[1]) or 0
local ts = tonumber(state[2]) or now
level = math.max(0, level - math.max(0, now - ts) * rate)
local granted = 0
if level + lease <= capacity then
  granted = lease
elseif level + cost <= capacity then
  granted = cost
end
level = level + granted
redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(level / rate * 1000) + 1000)
return {granted, tostring(level)}
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


LEASE_SECONDS = 30.0
LEASE_REQUESTS = 16


def lease_size(cost: int, capacity: int) -> int:
    return max(cost, min(cost * LEASE_REQUESTS, capacity // LEASE_REQUESTS))


@dataclass(slots=True)
class _Lease:
    points: int
    expires: float
    available: int  # the bucket's room when the lease was taken, lease excluded


@dataclass
class CostLeases:
    """Points this process has taken from clients' buckets and not yet spent."""

    max_clients: int = 50_000  # about 8 MB of leases at most
    _leases: dict[str, _Lease] = field(default_factory=dict)

    def spend(self, key: str, cost: int, now: float) -> int | None:
        """The points left after spending `cost` from a live lease, or None (ask Redis)."""
        lease = self._leases.get(key)
        if lease is None or lease.expires <= now or lease.points < cost:
            return None
        lease.points -= cost
        return lease.points + lease.available

    def keep(self, key: str, points: int, available: int, now: float) -> None:
        if points <= 0:
            return
        if len(self._leases) >= self.max_clients:
            live = {k: v for k, v in self._leases.items() if v.expires > now}
            if len(live) >= self.max_clients:
                # Still full: forget the older half (dicts keep insertion order). Forgetting a
                # lease only errs strict, and one sweep then lasts for many requests.
                live = dict(list(live.items())[len(live) // 2 :])
            self._leases = live
        lease = self._leases.get(key)
        if lease is not None and lease.expires > now:
            points += lease.points  # a concurrent request's lease: keep both
        self._leases[key] = _Lease(points, now + LEASE_SECONDS, available)


async def charge(
    redis: Redis,
    key: str,
    cost: int,
    *,
    capacity: int,
    restore_rate: int,
    leases: CostLeases | None = None,
) -> BucketStatus:
    now = time.monotonic()
    if leases is not None:
        left = leases.spend(key, cost, now)
        if left is not None:
            return BucketStatus(True, capacity, restore_rate, left, 0)
    lease = lease_size(cost, capacity) if leases is not None else cost
    script = redis.register_script(_SCRIPT)
    granted_text, level_text = await script(keys=[key], args=[capacity, restore_rate, cost, lease])
    level = float(level_text)
    granted = int(granted_text)
    ok = granted >= cost
    available = max(0, math.floor(capacity - level))
    if ok and leases is not None:
        leases.keep(key, granted - cost, available, now)
    retry = 0 if ok else math.ceil((level + cost - capacity) / restore_rate)
    return BucketStatus(
        allowed=ok,
        capacity=capacity,
        restore_rate=restore_rate,
        available=available + (granted - cost if ok else 0),
        retry_after=max(1, retry) if not ok else 0,
    )
