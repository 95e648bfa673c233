import logging

import httpx

from app import create_app
from tests.support.isolation import isolated_settings


async def _readyz_of_a_fresh_start(settings) -> httpx.Response:
    """Start an app (its lifespan prepares the stores), ask /readyz, stop it."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/readyz")


async def test_healthz_and_readyz_report_every_dependency_ok(http):
    assert (await http.get("/healthz")).text == "ok"
    resp = await http.get("/readyz")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"mongo", "redis", "storage"}
    assert all(c["status"] == "ok" and c["latency_ms"] >= 0 for c in body["checks"].values())


async def test_unreachable_dependencies_give_one_log_line_each_and_503(caplog):
    # Ports nothing listens on: the app must still start, say which service is down, and /readyz
    # must answer 503 naming it, never a traceback wall.
    settings = isolated_settings(
        mongodb_url="mongodb://127.0.0.1:9/",
        mongodb_timeout_ms=300,
        redis_url="redis://127.0.0.1:9/0",
        s3_endpoint="http://127.0.0.1:9",
    )
    with caplog.at_level(logging.ERROR):
        resp = await _readyz_of_a_fresh_start(settings)
    assert resp.status_code == 503
    checks = resp.json()["checks"]
    assert {name for name, c in checks.items() if c["status"] == "down"} == {
        "mongo",
        "redis",
        "storage",
    }
    lines = [r.getMessage() for r in caplog.records if r.name == "datastore.stores"]
    for service, address in (
        ("mongo", "127.0.0.1:9"),
        ("redis", "127.0.0.1:9"),
        ("storage", "127.0.0.1:9"),
    ):
        matching = [
            line
            for line in lines
            if line.startswith(f"{service} unreachable at") and address in line
        ]
        assert len(matching) == 1, lines
    assert all("\n" not in line for line in lines)
    assert not any(r.exc_info for r in caplog.records if r.name == "datastore.stores")


async def test_a_restart_against_an_existing_database_is_ready(app, settings, caplog):
    # The `app` fixture has created every index once. A second start against the same database
    # must neither fail nor drop connections (FerretDB 1.24 panics on a createIndexes naming
    # several existing indexes; datastore/mongo.ensure_indexes avoids that).
    with caplog.at_level(logging.WARNING):
        resp = await _readyz_of_a_fresh_start(settings)
    assert resp.status_code == 200, resp.json()
    assert not [r for r in caplog.records if r.name == "datastore.stores"]
