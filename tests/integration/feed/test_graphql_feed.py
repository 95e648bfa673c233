"""The feed through GraphQL: fields, errors, degradation, rebuild, cost per page."""

from __future__ import annotations

import httpx

from app import create_app
from feed.explore import refresh_explore
from tests.integration.feed.support import follow, next_time, publish, world_of
from tests.support import factories
from tests.support.graphql import GraphQLClient

FEED = """query($first: Int, $after: String, $order: FeedOrder) {
  feed(first: $first, after: $after, order: $order) {
    edges { cursor node { id caption createdAt likeCount commentCount viewerHasLiked
      author { id username fullName }
      media { type width height url(width: 640) } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_feed_pages_through_graphql_with_authors_and_media(app, gql):
    w = world_of(app)
    author, _ = await factories.create_user(w.stores, "author", full_name="Au Thor")
    viewer, token = await factories.create_user(w.stores, "viewer")
    await follow(w, viewer, author)
    posts = [await publish(w, author, caption=f"post {i}") for i in range(5)]
    await w.drain()
    seen, after = [], None
    while True:
        body = await gql(FEED, {"first": 2, "after": after}, token=token)
        conn = body.ok()["feed"]
        seen += [e["node"]["caption"] for e in conn["edges"]]
        for e in conn["edges"]:
            assert e["node"]["author"]["username"] == "author"
            assert e["node"]["media"][0]["url"]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [f"post {i}" for i in range(4, -1, -1)]
    assert len(posts) == 5


async def test_feed_errors_have_codes(gql, stores):
    _, token = await factories.create_user(stores, "viewer")
    assert (await gql(FEED, {"first": 5})).codes == ["UNAUTHENTICATED"]
    assert (await gql(FEED, {"first": 51}, token=token)).codes == ["BAD_USER_INPUT"]
    assert (await gql(FEED, {"first": 5, "after": "garbage"}, token=token)).codes == [
        "BAD_USER_INPUT"
    ]
    from core.cursor import cursor_codec

    # A RANKED cursor used for RECENT:
    foreign = cursor_codec(stores.settings).encode("feed-ranked", ["snapshot", 3])
    assert (await gql(FEED, {"first": 5, "after": foreign}, token=token)).codes == [
        "BAD_USER_INPUT"
    ]


async def test_private_accounts_reach_approved_followers_only(app, gql):
    w = world_of(app)
    private, _ = await factories.create_user(w.stores, "private", is_private=True)
    follower, follower_token = await factories.create_user(w.stores, "follower")
    stranger, stranger_token = await factories.create_user(w.stores, "stranger")
    await follow(w, follower, private)  # an approved follow
    post = await publish(w, private, caption="for followers")
    await w.drain()
    got = (await gql(FEED, {"first": 5}, token=follower_token)).ok()["feed"]["edges"]
    assert [e["node"]["caption"] for e in got] == ["for followers"]
    got = (await gql(FEED, {"first": 5}, token=stranger_token)).ok()["feed"]["edges"]
    assert got == []
    del post, stranger


async def test_flushed_redis_loses_nothing(app, gql):
    w = world_of(app)
    a, _ = await factories.create_user(w.stores, "a")
    b, _ = await factories.create_user(w.stores, "b")
    viewer, token = await factories.create_user(w.stores, "viewer")
    await follow(w, viewer, a)
    await follow(w, viewer, b)
    for author in (a, b, a):
        await publish(w, author)
    await w.drain()
    before = (await gql(FEED, {"first": 10}, token=token)).ok()["feed"]["edges"]
    assert len(before) == 3
    keys = [
        k async for k in w.stores.redis.scan_iter(match=f"{w.settings.redis_prefix}*", count=10_000)
    ]
    await w.stores.redis.delete(*keys)
    after = (await gql(FEED, {"first": 10}, token=token)).ok()["feed"]["edges"]
    assert [e["node"]["id"] for e in after] == [e["node"]["id"] for e in before]


async def test_redis_down_serves_the_feed_from_mongodb_and_says_so(settings, stores):
    a, _ = await factories.create_user(stores, "a")
    viewer, token = await factories.create_user(stores, "viewer")
    await factories.follow(stores, viewer, a)
    for _ in range(3):
        await factories.create_ready_post(stores, a, created_at=next_time())
    dead = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    application = create_app(dead)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            body = await GraphQLClient(http)(FEED, {"first": 2}, token=token)
    conn = body.ok()["feed"]
    assert len(conn["edges"]) == 2 and conn["pageInfo"]["hasNextPage"]
    assert body["extensions"]["feed"] == {
        "degraded": True,
        "source": "mongodb",
        "reason": "timeline cache unavailable",
    }


async def test_explore_shows_popular_posts_from_strangers_only(app, gql):
    w = world_of(app)
    viewer, token = await factories.create_user(w.stores, "viewer")
    friend, _ = await factories.create_user(w.stores, "friend")
    stranger, _ = await factories.create_user(w.stores, "stranger")
    private, _ = await factories.create_user(w.stores, "private", is_private=True)
    blocked, _ = await factories.create_user(w.stores, "blocked")
    await follow(w, viewer, friend)
    await w.stores.db.blocks.insert_one({"blocker_id": viewer, "blocked_id": blocked})
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    for author, caption, likes in (
        (friend, "friend", 50),
        (stranger, "popular", 40),
        (stranger, "quiet", 0),
        (private, "private", 90),
        (blocked, "blocked", 90),
        (viewer, "mine", 90),
    ):
        await factories.create_ready_post(
            w.stores,
            author,
            caption=caption,
            like_count=likes,
            created_at=now - timedelta(hours=2),
        )
    await refresh_explore(w.stores)
    body = await gql("{ explore(first: 10) { nodes { caption } } }", token=token)
    assert [n["caption"] for n in body.ok()["explore"]["nodes"]] == ["popular", "quiet"]


async def test_a_feed_page_costs_the_same_round_trips_for_5_or_50_items(counted):
    application, gql, mongo, redis = counted
    w = world_of(application)
    viewer, token = await factories.create_user(w.stores, "viewer")
    authors = [(await factories.create_user(w.stores, f"author{i}"))[0] for i in range(10)]
    for a in authors:
        await follow(w, viewer, a)
    for i in range(60):
        await publish(w, authors[i % 10], caption=f"p{i}")
    await w.drain()
    # Warm up first: the first reads load the page script and fill the document cache.
    for size in (5, 50, 5, 50):
        assert (await gql(FEED, {"first": size}, token=token)).ok()
    costs = {}
    for size in (5, 50):
        mongo.reset()
        redis.reset()
        body = await gql(FEED, {"first": size}, token=token)
        assert len(body.ok()["feed"]["edges"]) == size
        costs[size] = (mongo.total, redis.total, dict(mongo.commands))
    assert costs[5][:2] == costs[50][:2], costs
    # One MongoDB command: viewerHasLiked's likes lookup. One Redis round trip: the page's
    # script (tests/integration/feed/test_round_trips.py has the breakdown); `counted` turns
    # the gateway's cost bucket off (its lease makes its round trip a matter of timing).
    assert costs[50][:2] == (1, 1), costs
    print("feed page cost (mongo commands, redis round trips):", costs)


async def test_document_cache_hits_and_misses_reach_metrics(app, gql, http):
    w = world_of(app)
    author, _ = await factories.create_user(w.stores, "author")
    viewer, token = await factories.create_user(w.stores, "viewer")
    await follow(w, viewer, author)
    await publish(w, author)
    await w.drain()

    def counter(text: str, result: str) -> float:
        for line in text.splitlines():
            if line.startswith(
                f'photogram_cache_requests_total{{cache="posts_doc",result="{result}"}}'
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = (await http.get("/metrics")).text
    for _ in range(2):  # a miss fills the cache, the next read hits it
        assert (await gql(FEED, {"first": 5}, token=token)).ok()["feed"]["edges"]
    after = (await http.get("/metrics")).text
    assert counter(after, "miss") > counter(before, "miss")
    assert counter(after, "hit") > counter(before, "hit")
