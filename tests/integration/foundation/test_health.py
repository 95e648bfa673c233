import asyncio
import logging
import time

import httpx
from bson import ObjectId
from pymongo import AsyncMongoClient

from app import create_app
from datastore.mongo import registered_indexes
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
    assert set(body["checks"]) == {"mongo", "redis", "storage", "indexes"}
    assert all(c["status"] == "ok" for c in body["checks"].values())
    assert all(body["checks"][name]["latency_ms"] >= 0 for name in ("mongo", "redis", "storage"))


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
    # Nothing can be said about the indexes while MongoDB is unreachable: not ready, not "down".
    assert checks["indexes"]["status"] == "pending"
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


async def _index_names(db) -> dict[str, set[str]]:
    return {
        name: {ix["name"] async for ix in await db[name].list_indexes()}
        for name in registered_indexes()
    }


async def test_duplicates_blocking_a_unique_index_keep_the_process_unready_until_resolved(
    settings, caplog
):
    # Likes written while the unique (post_id, user_id) index was missing: two documents for one
    # pair. Startup must name that index and the conflicting documents, still create every other
    # index, and stay unready (a like would no longer be idempotent) until the duplicate goes.
    client = AsyncMongoClient(settings.mongodb_url, tz_aware=True)
    db = client[settings.mongodb_db]
    post, user = ObjectId(), ObjectId()
    dup_ids = [ObjectId(), ObjectId()]
    await db.likes.insert_many(
        [{"_id": i, "post_id": post, "user_id": user} for i in dup_ids]
        + [{"_id": ObjectId(), "post_id": post, "user_id": ObjectId()}]
    )
    application = create_app(settings)
    try:
        with caplog.at_level(logging.ERROR):
            async with application.router.lifespan_context(application):
                transport = httpx.ASGITransport(app=application)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                    resp = await http.get("/readyz")
                    assert resp.status_code == 503, resp.json()
                    checks = resp.json()["checks"]
                    assert {n for n, c in checks.items() if c["status"] != "ok"} == {"indexes"}
                    assert checks["indexes"]["failed"] == ["likes.post_id_1_user_id_1"]
                    (detail,) = checks["indexes"]["details"]
                    assert "duplicate" in detail and all(str(i) in detail for i in dup_ids)

                    logged = [r.getMessage() for r in caplog.records]
                    assert any(
                        "likes.post_id_1_user_id_1" in line and str(dup_ids[0]) in line
                        for line in logged
                    ), logged
                    assert not any("unreachable" in line for line in logged), logged

                    have = await _index_names(db)
                    for name, indexes in registered_indexes().items():
                        for ix in indexes:
                            wanted = ix.document["name"]
                            if (name, wanted) != ("likes", "post_id_1_user_id_1"):
                                assert wanted in have[name], (name, wanted)
                    assert "post_id_1_user_id_1" not in have["likes"]

                    # Resolve it; readiness retries on its backoff and recovers, no restart.
                    await db.likes.delete_one({"_id": dup_ids[1]})
                    deadline = time.monotonic() + 20
                    while (resp := await http.get("/readyz")).status_code != 200:
                        assert time.monotonic() < deadline, resp.json()
                        await asyncio.sleep(0.3)
                    assert resp.json()["checks"]["indexes"] == {"status": "ok"}
                    assert "post_id_1_user_id_1" in (await _index_names(db))["likes"]
    finally:
        await client.close()


async def test_indexes_are_checked_again_when_the_database_comes_back(app, stores):
    # A database that comes back after an outage may have lost indexes (restored from a backup,
    # a new server): the first readiness check after the outage creates them again.
    readiness = stores.indexes
    assert readiness.ready
    await stores.db.likes.drop_index("post_id_1_user_id_1")
    assert (await readiness.check(stores.db, mongo_up=True))["status"] == "ok"  # no re-check
    assert (await readiness.check(stores.db, mongo_up=False))["status"] == "pending"
    assert (await readiness.check(stores.db, mongo_up=True))["status"] == "ok"
    assert "post_id_1_user_id_1" in (await _index_names(stores.db))["likes"]
