"""`photogram doctor` against seeded drift: a counter off, an account missing from the search
index, duplicate likes written while the unique index was absent."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime

import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from core.events import Deps, emit
from datastore.stores import open_stores
from maintenance.doctor import run_doctor
from search import index, queries
from tests.support.factories import create_ready_post, create_user
from tests.support.isolation import drop_everything, isolated_settings, settings_env


@pytest.fixture
def deps(app, stores) -> Deps:
    return Deps(stores, app.state.queue)


def _by_name(report) -> dict:
    return {c.name: c for c in report.checks}


async def test_doctor_reports_drift_in_a_dry_run_and_repairs_it(deps, stores):
    author, _ = await create_user(stores, "author")
    await emit("user.registered", deps, user_id=author)
    pid = await create_ready_post(stores, author)
    await index.rebuild_index(stores)
    # Drift: a counter off, two accounts the index never saw, a stray follower.
    await stores.db.posts.update_one({"_id": pid}, {"$set": {"like_count": 5}})
    await create_user(stores, "quietone")
    fan, _ = await create_user(stores, "fanatic")
    await stores.redis.zadd(stores.keys("followers", author), {str(ObjectId()): 1.0})

    report = await run_doctor(stores, repair=False)
    checks = _by_name(report)
    assert checks["counters"].differences == 1
    assert "like_count 5 -> 0" in checks["counters"].examples[0]
    assert checks["search index"].differences == 2
    assert any("quietone" in e for e in checks["search index"].examples)
    assert checks["follow graph sets"].differences == 1
    assert checks["unique indexes"].differences == 0
    # A dry run changes nothing.
    assert (await stores.db.posts.find_one({"_id": pid}))["like_count"] == 5
    assert [
        d["username"] for d in (await queries.search_users(stores, None, "quiet", 5, None)).items
    ] == []

    repaired = await run_doctor(stores, repair=True)
    assert repaired.differences == 4
    assert (await stores.db.posts.find_one({"_id": pid}))["like_count"] == 0
    found = await queries.search_users(stores, None, "quiet", 5, None)
    assert [d["username"] for d in found.items] == ["quietone"]
    assert await stores.redis.zcard(stores.keys("followers", author)) == 0
    assert (await run_doctor(stores, repair=False)).differences == 0
    assert fan


async def test_duplicates_that_block_a_unique_index_are_found_and_removed():
    """A fresh database before its indexes exist: duplicate likes get in, as they did when
    index creation had failed."""
    settings = isolated_settings()
    stores = open_stores(settings)
    try:
        post, users = ObjectId(), [ObjectId(), ObjectId()]
        await stores.db.posts.insert_one(
            {"_id": post, "author_id": users[0], "status": "READY", "like_count": 4}
            | {"comment_count": 0, "share_count": 0, "created_at": datetime.now(UTC)}
        )
        for user, times in ((users[0], 3), (users[1], 1)):
            for _ in range(times):
                await stores.db.likes.insert_one(
                    {"post_id": post, "user_id": user, "created_at": datetime.now(UTC)}
                )
        report = await run_doctor(stores, repair=False)
        unique = _by_name(report)["unique indexes"]
        assert unique.differences == 1
        assert "likes.post_id_1_user_id_1" in unique.examples[0] and "x3" in unique.examples[0]

        await run_doctor(stores, repair=True)
        assert await stores.db.likes.count_documents({"post_id": post}) == 2
        assert (await stores.db.posts.find_one({"_id": post}))["like_count"] == 2
        names = {ix["name"] async for ix in await stores.db.likes.list_indexes()}
        assert "post_id_1_user_id_1" in names
        if settings.mongo_flavor == "ferretdb":  # mongo-java-server ignores secondary indexes
            with pytest.raises(DuplicateKeyError):
                await stores.db.likes.insert_one({"post_id": post, "user_id": users[1]})
        assert (await run_doctor(stores, repair=False)).differences == 0
    finally:
        await stores.close()
        await drop_everything(settings)


async def _doctor_cli(stores, *args: str) -> tuple[int, str]:
    """`photogram doctor` as an operator runs it: a process of its own."""
    env = {**os.environ, **settings_env(stores.settings), "PYTHONPATH": os.getcwd()}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "cli.py",
        "doctor",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode()


async def test_the_cli_exits_nonzero_when_a_dry_run_finds_drift(stores):
    author, _ = await create_user(stores, "author")
    pid = await create_ready_post(stores, author)
    await index.rebuild_index(stores)
    assert (await _doctor_cli(stores, "--dry-run"))[0] == 0
    await stores.db.posts.update_one({"_id": pid}, {"$set": {"comment_count": 2}})
    code, out = await _doctor_cli(stores, "--dry-run")
    assert code == 1 and "comment_count 2 -> 0" in out, out
    assert (await stores.db.posts.find_one({"_id": pid}))["comment_count"] == 2
    code, out = await _doctor_cli(stores)
    assert code == 0 and "repaired" in out, out
    assert (await stores.db.posts.find_one({"_id": pid}))["comment_count"] == 0
