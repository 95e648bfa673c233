"""Integration tests run against the real services: fail fast, with the fix, when they are down.
(tests/unit needs none of them.)"""

from __future__ import annotations

import httpx
import pytest

from tests.support.isolation import isolated_settings


@pytest.fixture(scope="session", autouse=True)
def _services_up() -> None:
    """Fail fast, with the fix, when the services are not running. Pings the MongoDB the
    settings name (MONGODB_URL), so each lane checks its own server."""
    import redis
    from pymongo import MongoClient

    s = isolated_settings()
    start = "make services" if s.mongo_flavor == "ferretdb" else "ops/services.sh start mongo-wire"
    try:
        MongoClient(s.mongodb_url, serverSelectionTimeoutMS=2000).admin.command("ping")
        redis.Redis.from_url(s.redis_url, socket_timeout=2).ping()
        httpx.get(
            f"{s.s3_endpoint}/minio/health/live", timeout=2
        ) if "127.0.0.1" in s.s3_endpoint else None
    except Exception as exc:
        pytest.exit(
            f"services are not running ({exc}; MongoDB at {s.mongodb_url}, "
            f"MONGO_FLAVOR={s.mongo_flavor}); start them with `{start}`",
            2,
        )
