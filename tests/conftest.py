"""Fixtures: real services (started by `make services`), one isolated namespace per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from core.settings import Settings
from datastore.stores import Stores
from tests.support.graphql import GraphQLClient
from tests.support.isolation import drop_everything, isolated_settings


@pytest.fixture(scope="session", autouse=True)
def _services_up() -> None:
    """Fail fast, with the fix, when the services are not running."""
    import redis
    from pymongo import MongoClient

    s = isolated_settings()
    try:
        MongoClient(s.mongodb_url, serverSelectionTimeoutMS=2000).admin.command("ping")
        redis.Redis.from_url(s.redis_url, socket_timeout=2).ping()
        httpx.get(
            f"{s.s3_endpoint}/minio/health/live", timeout=2
        ) if "127.0.0.1" in s.s3_endpoint else None
    except Exception as exc:
        pytest.exit(f"services are not running ({exc}); start them with `make services`", 2)


@pytest.fixture
async def settings() -> AsyncIterator[Settings]:
    s = isolated_settings()
    yield s
    await drop_everything(s)


@pytest.fixture
async def app(settings: Settings):
    from app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def stores(app) -> Stores:
    return app.state.stores


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
async def counted(settings: Settings):
    """The app with every MongoDB command and Redis round trip counted, and a client for it:
    yields (app, gql, mongo counter, redis counter). The gateway's cost bucket is off: a process
    charges it once per lease of requests (gateway/throttle.py), so whether a counted request
    pays that round trip depends on timing; tests/gateway/test_rate_limit.py covers it."""
    from app import create_app
    from datastore.instrumentation import (
        MongoCommandCounter,
        RedisRoundTrips,
        counting_connection_class,
    )

    mongo, redis = MongoCommandCounter(), RedisRoundTrips()
    settings.cost_bucket_capacity = 0
    application = create_app(
        settings, mongo_listeners=[mongo], redis_connection_class=counting_connection_class(redis)
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield application, GraphQLClient(http), mongo, redis
