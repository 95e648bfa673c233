"""The Redis client and the key namespace.

Every key and pub/sub channel goes through `RedisKeys`, whose prefix isolates deployments and
test runs sharing one Redis.
"""

from __future__ import annotations

from redis.asyncio import Redis

from core.settings import Settings


def connect_redis(
    settings: Settings, *, decode: bool = True, connection_class: type | None = None
) -> Redis:
    extra = {"connection_class": connection_class} if connection_class else {}
    return Redis.from_url(
        settings.redis_url,
        decode_responses=decode,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
        **extra,
    )


class RedisKeys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)
