"""The Redis client and the key namespace.

Every key and pub/sub channel goes through `RedisKeys`, whose prefix isolates deployments and
test runs sharing one Redis.
"""

from __future__ import annotations

from redis.asyncio import Redis

from core.settings import Settings


def connect_redis(settings: Settings) -> Redis:
    return Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
    )


class RedisKeys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)
