"""Rate limits over Redis with the `limits` library (moving window).

Usage from any domain service:

    from services.rate_limits import check_rate_limit
    await check_rate_limit(stores, "like", user_id)          # raises RateLimited when over

Actions and their limits come from settings (`rate_limit_<action>`, in the `limits` notation
such as "1000/hour"): follow, post, like, comment, login_account, login_address,
register_address. Windows live in Redis under `{REDIS_PREFIX}rl:`; each hit is one Lua call.

When Redis is down a limit cannot be counted, and each action decides (`FAIL_CLOSED`):
- login and registration fail closed (SERVICE_UNAVAILABLE): an outage must not open a window
  for password guessing or mass sign-ups, and a client can retry them in a second;
- likes, comments, follows and posts fail open: they need an account, their limits are against
  spam, not attacks, and refusing them would turn a cache outage into a write outage (the
  writes themselves commit to MongoDB without Redis).
"""

from __future__ import annotations

import logging
import math
import time
import weakref

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from core.errors import RateLimited
from datastore.outages import REDIS_OUTAGE, unavailable
from datastore.stores import Stores

log = logging.getLogger(__name__)

# Actions refused while their window cannot be counted (see the module docstring).
FAIL_CLOSED = frozenset({"login_account", "login_address", "register_address"})

# One limiter per Redis connection pool (the API and the worker each have one; tests one per
# app), sharing that pool rather than opening connections of its own.
_LIMITERS: weakref.WeakKeyDictionary[object, MovingWindowRateLimiter] = weakref.WeakKeyDictionary()
_ITEMS: dict[str, RateLimitItem] = {}


def _limiter(stores: Stores) -> MovingWindowRateLimiter:
    pool = stores.redis.connection_pool
    limiter = _LIMITERS.get(pool)
    if limiter is None:
        storage = RedisStorage(
            "async+" + stores.settings.redis_url,
            implementation="redispy",
            key_prefix=stores.settings.redis_prefix + "rl",
            connection_pool=pool,
        )
        limiter = MovingWindowRateLimiter(storage)
        _LIMITERS[pool] = limiter
    return limiter


def _item(spec: str) -> RateLimitItem:
    item = _ITEMS.get(spec)
    if item is None:
        item = _ITEMS[spec] = parse(spec)
    return item


def limit_for(stores: Stores, action: str) -> str:
    spec = getattr(stores.settings, f"rate_limit_{action}", None)
    if not isinstance(spec, str):
        raise ValueError(f"no rate limit configured for action {action!r}")
    return spec


async def check_rate_limit(
    stores: Stores, action: str, *identifiers: object, limit: str | None = None, cost: int = 1
) -> None:
    """Count one `action` by `identifiers` (usually a user id) against its limit.

    Args:
        stores: the process's stores (Redis is used).
        action: names the limit: settings.rate_limit_<action> unless `limit` is given.
        identifiers: who is limited (user id, client address, login name...); str() is applied.
        limit: override in the `limits` notation, e.g. "5/minute".
        cost: how many hits this call counts for.

    Raises:
        RateLimited: the window is full; `retry_after` (and `extensions.retryAfter`) is the
        number of seconds until one hit frees up. Nothing is counted in that case.
    """
    item = _item(limit or limit_for(stores, action))
    limiter = _limiter(stores)
    keys = [action, *(str(i) for i in identifiers)]
    try:
        if await limiter.hit(item, *keys, cost=cost):
            return
    except REDIS_OUTAGE as exc:
        if action in FAIL_CLOSED:
            raise unavailable("redis") from exc
        log.warning("rate limit %s not counted (Redis unavailable): %s", action, exc)
        return
    stats = await limiter.get_window_stats(item, *keys)
    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
    raise RateLimited(
        f"Too many {action.replace('_', ' ')} attempts; try again in {retry_after} s",
        retry_after=retry_after,
    )
