"""MongoDB dropping connections: idempotent writes are retried once it is back (an insert
whose lost answer had landed counts once), `$inc` is not; a burst of likes across a FerretDB
kill -9 gets no INTERNAL, and every like a client was told about is in the database."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from core.ids import to_global_id
from datastore.backend.reconnect import insert_retrying, retry_dropped
from tests.integration.outage.support import FERRETDB, private_ferretdb, running
from tests.support import factories

LIKE = "mutation($id: ID!) { likePost(postId: $id) { likeCount } }"


class _DropsAnswerOnce:
    """A real collection whose first insert lands and then loses its answer, as when the
    server dies between applying a write and replying."""

    def __init__(self, coll: Any) -> None:
        self.coll = coll
        self.dropped = False

    async def insert_one(self, doc: dict) -> Any:
        result = await self.coll.insert_one(doc)
        if not self.dropped:
            self.dropped = True
            raise AutoReconnect("connection closed")
        return result

    async def find_one(self, flt: dict) -> Any:
        return await self.coll.find_one(flt)


async def _run(op):
    return await op()


async def test_an_insert_whose_answer_was_lost_counts_once(stores):
    coll = _DropsAnswerOnce(stores.db.likes)
    post, user = ObjectId(), ObjectId()
    doc = {"post_id": post, "user_id": user, "created_at": factories_now()}
    start = time.monotonic()
    await insert_retrying(coll, doc, _run)
    assert time.monotonic() - start < 3
    assert await stores.db.likes.count_documents({"post_id": post}) == 1


async def test_a_non_idempotent_write_is_not_retried():
    calls = 0

    async def inc() -> None:
        nonlocal calls
        calls += 1
        raise AutoReconnect("connection closed")

    with pytest.raises(AutoReconnect):
        await inc()  # what a backend does with an `$inc`: one attempt
    calls = 0
    with pytest.raises(AutoReconnect):
        await retry_dropped(inc)  # an idempotent write: bounded tries
    assert calls == 3


@pytest.mark.skipif(not FERRETDB.exists(), reason="needs the FerretDB binary (make services)")
async def test_likes_across_a_ferretdb_kill_get_no_internal_and_lose_nothing(settings):
    with private_ferretdb() as mongo:
        local = settings.model_copy(
            update={
                "mongodb_url": mongo.url,
                "mongo_flavor": "ferretdb",
                "mongodb_timeout_ms": 1000,
            }
        )
        async with running(local) as (app, gql, _http):
            stores = app.state.stores
            author, _ = await factories.create_user(stores, "author")
            post = await factories.create_ready_post(stores, author)
            fans = [await factories.create_user(stores, f"fan{i}") for i in range(12)]
            gid = {"id": to_global_id("Post", post)}

            async def like(token: str, delay: float) -> Any:
                await asyncio.sleep(delay)
                return await gql(LIKE, gid, token=token)

            burst = [like(token, i * 0.05) for i, (_, token) in enumerate(fans)]
            killer = asyncio.create_task(_kill_and_restart(mongo, after=0.2))
            start = time.monotonic()
            results = await asyncio.gather(*burst)
            await killer
            took = time.monotonic() - start
            codes = [c for r in results for c in r.codes]
            assert "INTERNAL" not in codes, codes
            assert set(codes) <= {"SERVICE_UNAVAILABLE"}, codes
            assert took < 20, took
            told = {fans[i][0] for i, r in enumerate(results) if not r.errors}
            # Retrying the ones that failed, as a client told to retry would:
            for i, r in enumerate(results):
                if r.errors:
                    (await gql(LIKE, gid, token=fans[i][1])).ok()
            likers = {d["user_id"] async for d in stores.db.likes.find({"post_id": post})}
    print(f"12 likes across a kill: {len(told)} ok, {len(codes)} SERVICE_UNAVAILABLE")
    assert told <= likers  # nothing a client was told about is lost
    assert likers == {f for f, _ in fans}


async def _kill_and_restart(mongo: Any, after: float) -> None:
    await asyncio.sleep(after)
    mongo.kill()
    await asyncio.sleep(0.5)
    await asyncio.to_thread(mongo.start)


def factories_now():
    from datetime import UTC, datetime

    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)
