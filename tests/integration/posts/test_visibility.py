"""services/visibility.py: the one post visibility rule, single and batched. The batched form
costs the same round trips for a list of 5 posts or 50."""

from __future__ import annotations

from bson import ObjectId

from datastore import graph
from datastore.doc_cache import post_cache, user_cache
from datastore.posts import PostStatus
from services.visibility import can_view_post, visible_posts
from tests.support import factories


async def _posts(stores, authors: list[ObjectId], n: int) -> list[ObjectId]:
    return [
        await factories.create_ready_post(stores, authors[i % len(authors)], caption=f"p{i}")
        for i in range(n)
    ]


async def test_single_and_batched_forms_agree_on_every_case(app):
    stores = app.state.stores
    viewer, _ = await factories.create_user(stores, "viewer")
    public, _ = await factories.create_user(stores, "public")
    private, _ = await factories.create_user(stores, "private", is_private=True)
    friend, _ = await factories.create_user(stores, "friend", is_private=True)
    blocker, _ = await factories.create_user(stores, "blocker")
    await factories.follow(stores, viewer, friend)
    await graph.create_block(stores, blocker, viewer)
    ids = [await factories.create_ready_post(stores, a) for a in (public, private, friend, blocker)]
    own_processing = await factories.create_ready_post(stores, viewer)
    other_processing = await factories.create_ready_post(stores, public)
    for pid in (own_processing, other_processing):
        await stores.db.posts.update_one({"_id": pid}, {"$set": {"status": PostStatus.PROCESSING}})
    all_ids = [*ids, own_processing, other_processing]
    docs = await post_cache(stores).get_many(all_ids)
    expected = {
        viewer: [True, False, True, False, True, False],
        None: [True, False, False, True, False, False],
    }
    for who, want in expected.items():
        single = [await can_view_post(stores, who, d) for d in docs]
        batched = [p is not None for p in await visible_posts(stores, who, docs)]
        assert single == want == batched, who
    # A missing post stays a hole in its place.
    assert (await visible_posts(stores, viewer, [None, docs[0]]))[0] is None


async def test_a_batch_costs_the_same_round_trips_for_5_posts_or_50(counted):
    application, _, mongo, redis = counted
    stores = application.state.stores
    viewer, _ = await factories.create_user(stores, "viewer")
    authors = [
        (await factories.create_user(stores, f"a{i}", is_private=i % 2 == 1))[0] for i in range(10)
    ]
    for a in authors[:6]:
        await factories.follow(stores, viewer, a)
    ids = await _posts(stores, authors, 50)
    docs = await post_cache(stores).get_many(ids)
    await user_cache(stores).get_many(authors)  # warm, as on a live server
    costs = {}
    for size in (5, 50):
        page = docs[:size]
        await visible_posts(stores, viewer, page)  # warm the graph cache for these authors
        mongo.reset()
        redis.reset()
        shown = await visible_posts(stores, viewer, page)
        costs[size] = (redis.total, mongo.total)
        # Public authors, and the private ones followed (a1, a3, a5), are visible.
        visible_authors = {a for i, a in enumerate(authors) if i % 2 == 0 or i < 6}
        assert [p is not None for p in shown] == [p["author_id"] in visible_authors for p in page]
    assert costs[5] == costs[50], costs
    assert costs[50][1] == 0, costs
