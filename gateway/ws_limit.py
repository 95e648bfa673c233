"""At most `max_ws_connections_per_user` open WebSocket connections per user, counted in Redis so
the cap holds across API processes.

Each user has a sorted set of connection ids scored by connect time; a Lua script admits a
connection only if the set is below the cap, atomically. The id is removed when the connection
closes. Entries older than STALE_SECONDS are dropped on the next connect, so a process that died
without cleaning up cannot lock a user out for longer than that.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

STALE_SECONDS = 24 * 3600

_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - stale)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], stale)
return 1
"""


async def admit(redis: Redis, key: str, cap: int) -> str | None:
    """A connection id if the user is under the cap (release it on close), else None."""
    conn_id = uuid.uuid4().hex
    script = redis.register_script(_ADMIT)
    ok = await script(keys=[key], args=[conn_id, cap, STALE_SECONDS * 1000])
    return conn_id if int(ok) else None


async def release(redis: Redis, key: str, conn_id: str) -> None:
    await redis.zrem(key, conn_id)


async def open_connections(redis: Redis, key: str) -> int:
    return int(await redis.zcard(key))
