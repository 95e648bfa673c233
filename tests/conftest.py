"""Fixtures: real services (started by `make services`), one isolated namespace per test.

Two lanes run the suite (`make test`): the whole of it on FerretDB (MONGO_FLAVOR=ferretdb),
then `--data-only` on mongo-java-server (MONGO_FLAVOR=mongodb), which proves the code path a
real MongoDB user gets. Markers (pyproject.toml) say what does not belong in the second."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from core.settings import Settings
from datastore.stores import Stores
from tests.support.graphql import GraphQLClient
from tests.support.isolation import drop_everything, isolated_settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--data-only",
        action="store_true",
        help="run only tests that reach the data stores (the mongodb lane of `make test`)",
    )


def _reaches_the_data_stores(item: pytest.Item) -> bool:
    # Through the `settings` fixture (every store fixture depends on it), or a module that makes
    # its own namespace with isolated_settings() (property tests, multi-process tests). Decided
    # by what a test uses rather than by path, so it survives tests moving between directories.
    if "settings" in getattr(item, "fixturenames", ()):
        return True
    module = getattr(item, "module", None)
    return module is not None and hasattr(module, "isolated_settings")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    flavor = isolated_settings().mongo_flavor
    if config.getoption("--data-only"):
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            pure = not _reaches_the_data_stores(item)
            browser = item.get_closest_marker("browser") is not None
            (drop if pure or browser else keep).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    if flavor != "ferretdb":
        why = pytest.mark.skip(reason=f"about FerretDB's workarounds; MONGO_FLAVOR={flavor}")
        for item in items:
            if item.get_closest_marker("ferretdb_only") is not None:
                item.add_marker(why)


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
    pays that round trip depends on timing; tests/integration/gateway/test_rate_limit.py
    covers it."""
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
