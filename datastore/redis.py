"""The Redis client and the key namespace.

Every key and pub/sub channel goes through `RedisKeys`, whose prefix isolates deployments and
test runs sharing one Redis.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from core.settings import Settings
from datastore.redis_connection import PackingConnection

_SCRIPTS: WeakKeyDictionary[Redis, dict[str, AsyncScript]] = WeakKeyDictionary()


def connect_redis(
    settings: Settings, *, decode: bool = True, connection_class: type | None = None
) -> Redis:
    return Redis.from_url(
        settings.redis_url,
        decode_responses=decode,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
        connection_class=connection_class or PackingConnection,
    )


def script(redis: Redis, source: str) -> AsyncScript:
    """The Lua `source` registered on `redis` (EVALSHA; redis-py reloads it after NOSCRIPT),
    once per client rather than per call."""
    scripts = _SCRIPTS.get(redis)
    if scripts is None:
        scripts = _SCRIPTS[redis] = {}
    found = scripts.get(source)
    if found is None:
        found = scripts[source] = redis.register_script(source)
    return found


def text(value: bytes | str) -> str:
    """A reply of a client made with `decode=False`, as str."""
    return value.decode() if isinstance(value, bytes) else value


class RedisKeys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)
