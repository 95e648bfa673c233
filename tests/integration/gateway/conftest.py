"""Gateway fixtures: apps built with setting overrides (small budgets, production mode) and the
test-only root fields of tests/integration/gateway/support.py added to the real schema."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.integration.gateway.support import GatewayTestQuery
from tests.support.graphql import GraphQLClient

ClientFactory = Callable[..., Awaitable[GraphQLClient]]


@pytest.fixture
def test_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    import schema.root as root

    monkeypatch.setattr(root, "QUERIES", [*root.QUERIES, GatewayTestQuery])


@pytest.fixture
async def make_client(settings: Settings, test_fields: None) -> AsyncIterator[ClientFactory]:
    """`await make_client(**setting_overrides, client_host=...)` -> a GraphQLClient on an app
    sharing the test's database and key prefix (`client.app`). Clients with the same overrides
    share one app (starting an app creates every index, the slow part of a test)."""
    from app import create_app

    async with AsyncExitStack() as stack:
        apps: dict[str, Any] = {}

        async def make(client_host: str = "127.0.0.1", **overrides: Any) -> GraphQLClient:
            key = repr(sorted(overrides.items()))
            app = apps.get(key)
            if app is None:
                app = create_app(settings.model_copy(update=overrides))
                await stack.enter_async_context(app.router.lifespan_context(app))
                apps[key] = app
            transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )
            client = GraphQLClient(http)
            client.app = app  # type: ignore[attr-defined]
            return client

        yield make
