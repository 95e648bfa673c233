"""After Redis loses everything (a FLUSHALL, here of this test's key prefix), the next read of
each derived structure rebuilds it from MongoDB: never an empty answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from datastore import graph
from datastore.accounts import user_ids_by_username
from feed import explore
from tests.support.factories import create_ready_post, create_user, follow


async def _flush_prefix(stores) -> None:
    found = [k async for k in stores.redis.scan_iter(match=stores.keys("*"), count=1000)]
    if found:
        await stores.redis.delete(*found)


async def test_explore_follow_block_sets_and_the_username_map_survive_a_flush(app, stores):
    viewer, _ = await create_user(stores, "viewer")
    stranger, _ = await create_user(stores, "stranger")
    fans = [(await create_user(stores, f"fan{i}"))[0] for i in range(3)]
    enemy, _ = await create_user(stores, "enemy")
    for fan in fans:
        await follow(stores, fan, stranger)
    await graph.create_block(stores, enemy, viewer)
    post = await create_ready_post(
        stores, stranger, created_at=datetime.now(UTC) - timedelta(hours=1)
    )
    await explore.refresh_explore(stores)

    async def answers():
        page = await explore.read_explore(stores, viewer, 10, None)
        owner = await stores.db.users.find_one({"_id": stranger})
        followers = await graph.graph_page(stores, owner, "followers", 10, None)
        return (
            [p["_id"] for p in page.items],
            sorted(followers.items),
            await graph.has_blocked(stores, enemy, viewer),
            await graph.blocked_among(stores, viewer, [enemy, stranger]),
            await graph.is_following(stores, fans[0], stranger),
            await user_ids_by_username(stores, ["stranger"]),
        )

    before = await answers()
    assert before == (
        [post],
        sorted(fans),
        True,
        {enemy},
        True,
        {"stranger": stranger},
    )
    await _flush_prefix(stores)
    assert await answers() == before
