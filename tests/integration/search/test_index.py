"""The search indexes and queries against the real Redis and MongoDB, through domain events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from core.errors import BadInput
from core.events import Deps, emit
from datastore import graph
from datastore.doc_cache import post_cache
from search import index, queries
from tests.support.factories import create_ready_post, create_user, follow


@pytest.fixture
def deps(app, stores) -> Deps:
    return Deps(stores, app.state.queue)


async def _user(deps: Deps, username: str, **kw) -> ObjectId:
    uid, _ = await create_user(deps.stores, username, **kw)
    await emit("user.registered", deps, user_id=uid)
    return uid


async def _follow(deps: Deps, a: ObjectId, b: ObjectId) -> None:
    await follow(deps.stores, a, b)
    await emit("user.followed", deps, follower_id=a, followee_id=b)


async def _post(deps: Deps, author: ObjectId, **kw) -> ObjectId:
    pid = await create_ready_post(deps.stores, author, **kw)
    await emit("post.ready", deps, post_id=pid, author_id=author)
    return pid


async def _names(stores, viewer, q, first=20, after=None) -> list[str]:
    page = await queries.search_users(stores, viewer, q, first, after)
    return [d["username"] for d in page.items]


async def test_user_search_prefix_word_prefix_case_and_accents(deps, stores):
    await _user(deps, "jgarcia", full_name="José García")
    await _user(deps, "maria.lopez", full_name="María López")
    await _user(deps, "pedro")
    assert await _names(stores, None, "jose") == ["jgarcia"]
    assert await _names(stores, None, "JOSÉ") == ["jgarcia"]
    assert await _names(stores, None, "garc") == ["jgarcia"]  # word prefix of the full name
    assert await _names(stores, None, "lopez") == ["maria.lopez"]  # word of the username
    assert await _names(stores, None, "jose garcia") == ["jgarcia"]
    assert await _names(stores, None, "garcia jo") == ["jgarcia"]
    assert await _names(stores, None, "jose lopez") == []
    assert await _names(stores, None, "xyz") == []


async def test_user_ranking_exact_then_followed_then_followers(deps, stores):
    viewer = await _user(deps, "viewer")
    anna = await _user(deps, "anna")
    annabel = await _user(deps, "annabel")
    annette = await _user(deps, "annette", full_name="Annette Popular")
    anny = await _user(deps, "anny")
    fans = [await _user(deps, f"fan{i}") for i in range(3)]
    for f in fans:  # annette has the most followers, annabel one
        await _follow(deps, f, annette)
    await _follow(deps, fans[0], annabel)
    await _follow(deps, viewer, anny)  # the viewer follows anny (0 other followers)
    assert anna and annabel
    assert await _names(stores, viewer, "anna") == ["anna", "annabel"]
    # "ann": no exact match; followed first, then by follower count (ties by id)
    got = await _names(stores, viewer, "ann")
    assert got[:3] == ["anny", "annette", "annabel"]
    assert set(got) == {"anna", "annabel", "annette", "anny"}
    # exact username beats a followed account, even if the query is typed with a leading @
    assert (await _names(stores, viewer, "@Anny"))[0] == "anny"
    # anonymous: no followed tier
    assert (await _names(stores, None, "ann"))[:2] == ["annette", "annabel"]


async def test_follower_count_changes_reorder_results(deps, stores):
    a = await _user(deps, "zed_a")
    b = await _user(deps, "zed_b")
    fan = await _user(deps, "fan")
    await _follow(deps, fan, b)
    assert await _names(stores, None, "zed") == ["zed_b", "zed_a"]
    await stores.db.users.update_one({"_id": b}, {"$inc": {"follower_count": -1}})
    await stores.db.users.update_one({"_id": a}, {"$inc": {"follower_count": 5}})
    await emit("user.unfollowed", deps, follower_id=fan, followee_id=b)
    await emit("user.followed", deps, follower_id=fan, followee_id=a)
    assert await _names(stores, None, "zed") == ["zed_a", "zed_b"]


async def test_blocked_users_never_appear_private_ones_do(deps, stores):
    viewer = await _user(deps, "viewer")
    blocked = await _user(deps, "sam_blocked")
    blocker = await _user(deps, "sam_blocker")
    await _user(deps, "sam_private", is_private=True)
    await graph.create_block(stores, viewer, blocked)
    await graph.create_block(stores, blocker, viewer)
    assert await _names(stores, viewer, "sam") == ["sam_private"]
    assert await _names(stores, viewer, "sam_blocked") == []  # not even by exact username
    assert set(await _names(stores, None, "sam")) == {"sam_blocked", "sam_blocker", "sam_private"}
    # the blocked users see no trace of the viewer either
    assert await _names(stores, blocked, "viewer") == []
    assert await _names(stores, blocker, "viewer") == []
    await graph.remove_block(stores, viewer, blocked)
    assert set(await _names(stores, viewer, "sam")) == {"sam_blocked", "sam_private"}


async def test_profile_change_reindexes_old_terms_away(deps, stores):
    uid = await _user(deps, "oldname", full_name="First Person")
    await stores.db.users.update_one(
        {"_id": uid},
        {"$set": {"username": "newname", "username_lower": "newname", "full_name": "Zoë Other"}},
    )
    await emit("user.profile_changed", deps, user_id=uid)
    assert await _names(stores, None, "oldname") == []
    assert await _names(stores, None, "first") == []
    assert await _names(stores, None, "zoe") == ["newname"]
    assert await _names(stores, None, "newn") == ["newname"]
    # nothing of the old terms is left behind in Redis
    assert await stores.redis.zscore(stores.keys("sx", "u", "p", "old"), str(uid)) is None


async def test_user_pages_follow_the_cursor(deps, stores):
    for i in range(7):
        await _user(deps, f"pager{i}", follower_count=i)
        await index.index_user(
            stores, (await stores.db.users.find_one({"username": f"pager{i}"}))["_id"]
        )
    seen: list[str] = []
    after = None
    while True:
        page = await queries.search_users(stores, None, "pager", 3, after)
        seen += [d["username"] for d in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == [f"pager{i}" for i in range(6, -1, -1)]
    with pytest.raises(BadInput):
        await queries.search_users(stores, None, "other", 3, after)


async def test_concurrent_reindexes_of_one_user_leave_one_consistent_entry(deps, stores):
    uid = await _user(deps, "racer", full_name="Alpha")
    names = ["Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]

    async def rename(name: str) -> None:
        await stores.db.users.update_one({"_id": uid}, {"$set": {"full_name": name}})
        await index.index_user(stores, uid)

    await asyncio.gather(*(rename(n) for n in names))
    await index.index_user(stores, uid)
    final = (await stores.db.users.find_one({"_id": uid}))["full_name"].lower()
    for name in ["alpha", *[n.lower() for n in names]]:
        expected = ["racer"] if name == final else []
        assert await _names(stores, None, name) == expected, name


# --- hashtags ----------------------------------------------------------------------------


async def _tags(stores, q, first=20) -> list[tuple[str, int]]:
    page = await queries.search_hashtags(stores, q, first, None)
    return [(h.name, h.post_count) for h in page.items]


async def test_hashtag_search_ranks_by_post_count_and_follows_edits_and_deletes(deps, stores):
    author = await _user(deps, "author")
    p1 = await _post(deps, author, hashtags=["café", "cats"])
    await _post(deps, author, hashtags=["cats"])
    await _post(deps, author, hashtags=["catsofinstagram", "cats"])
    assert await _tags(stores, "cat") == [("cats", 3), ("catsofinstagram", 1)]
    assert await _tags(stores, "#CAFE") == [("café", 1)]  # accents and case ignored
    # edit: p1 loses #cats and gains #dogs
    await stores.db.posts.update_one({"_id": p1}, {"$set": {"hashtags": ["café", "dogs"]}})
    await emit("post.edited", deps, post_id=p1, author_id=author)
    assert await _tags(stores, "cat") == [("cats", 2), ("catsofinstagram", 1)]
    assert await _tags(stores, "do") == [("dogs", 1)]
    # delete (hard delete, as the posts service does): counts drop, empty tags disappear
    await stores.db.posts.delete_one({"_id": p1})
    await emit("post.deleted", deps, post_id=p1, author_id=author)
    assert await _tags(stores, "do") == []
    assert await _tags(stores, "caf") == []
    assert await queries.get_hashtag(stores, "#Dogs") is None
    assert (await queries.get_hashtag(stores, "#CATS")).post_count == 2


async def test_processing_posts_are_not_indexed_until_ready(deps, stores):
    author = await _user(deps, "author")
    pid = await create_ready_post(stores, author, hashtags=["wip"], status="PROCESSING")
    await emit("post.edited", deps, post_id=pid, author_id=author)
    assert await _tags(stores, "wip") == []
    await stores.db.posts.update_one({"_id": pid}, {"$set": {"status": "READY"}})
    await emit("post.ready", deps, post_id=pid, author_id=author)
    assert await _tags(stores, "wip") == [("wip", 1)]


async def test_concurrent_posts_keep_an_exact_count(deps, stores):
    author = await _user(deps, "author")
    await asyncio.gather(*(_post(deps, author, hashtags=["rush"]) for _ in range(20)))
    assert await _tags(stores, "rush") == [("rush", 20)]
    assert await stores.redis.zscore(stores.keys("sx", "h", "p", "rus"), "rush") == 20


async def _page_ids(stores, viewer, tag, order, first=20):
    out, after = [], None
    while True:
        page = await queries.hashtag_posts(stores, viewer, tag, order, first, after)
        out += [p["_id"] for p in page.items]
        if not page.has_next:
            return out
        after = page.cursors[-1]


async def test_hashtag_pages_recent_and_top_only_visible_ready_posts(deps, stores):
    viewer = await _user(deps, "viewer")
    public = await _user(deps, "public")
    private = await _user(deps, "private", is_private=True)
    friend = await _user(deps, "friend", is_private=True)
    blocker = await _user(deps, "blocker")
    await _follow(deps, viewer, friend)
    now = datetime.now(UTC)
    t = lambda m: now - timedelta(minutes=m)  # noqa: E731
    old_popular = await _post(deps, public, hashtags=["sun"], created_at=t(60), like_count=500)
    new_plain = await _post(deps, public, hashtags=["sun"], created_at=t(1))
    hidden = await _post(deps, private, hashtags=["sun"], created_at=t(2))
    friends = await _post(deps, friend, hashtags=["sun"], created_at=t(3))
    blocked = await _post(deps, blocker, hashtags=["sun"], created_at=t(4))
    await graph.create_block(stores, blocker, viewer)
    assert await _page_ids(stores, viewer, "#SUN", "RECENT", 1) == [new_plain, friends, old_popular]
    assert await _page_ids(stores, viewer, "sun", "TOP", 2) == [old_popular, new_plain, friends]
    assert await _page_ids(stores, None, "sun", "RECENT") == [new_plain, blocked, old_popular]
    assert hidden not in await _page_ids(stores, viewer, "sun", "RECENT")
    # engagement moves a post up the TOP order
    await stores.db.posts.update_one({"_id": friends}, {"$set": {"like_count": 100000}})
    await emit("post.liked", deps, post_id=friends, user_id=viewer, author_id=friend)
    assert (await _page_ids(stores, viewer, "sun", "TOP"))[0] == friends
    # a post whose status changed before the index heard of it is still never shown (the
    # posts service's write invalidates the shared document cache; the index lags)
    await stores.db.posts.update_one({"_id": new_plain}, {"$set": {"status": "FAILED"}})
    await post_cache(stores).invalidate([new_plain])
    assert new_plain not in await _page_ids(stores, viewer, "sun", "RECENT")


async def test_post_page_cursor_is_bound_to_its_list(deps, stores):
    author = await _user(deps, "author")
    for _ in range(3):
        await _post(deps, author, hashtags=["a1", "b1"])
    page = await queries.hashtag_posts(stores, None, "a1", "RECENT", 1, None)
    with pytest.raises(BadInput):
        await queries.hashtag_posts(stores, None, "b1", "RECENT", 1, page.cursors[0])
    with pytest.raises(BadInput):
        await queries.hashtag_posts(stores, None, "a1", "TOP", 1, page.cursors[0])


# --- locations ---------------------------------------------------------------------------


def _loc(name: str, lat=None, lng=None) -> dict:
    return {"id": ObjectId(), "name": name, "lat": lat, "lng": lng}


async def test_locations_search_pages_counts_and_nearby(deps, stores):
    author = await _user(deps, "author")
    louvre = _loc("Musée du Louvre", 48.8606, 2.3376)
    eiffel = _loc("Tour Eiffel", 48.8584, 2.2945)
    museum_ny = _loc("Museum of Modern Art", 40.7614, -73.9776)
    nowhere = _loc("Museum Without Coordinates")
    for loc, n in [(louvre, 3), (eiffel, 1), (museum_ny, 2), (nowhere, 1)]:
        for _ in range(n):
            await _post(deps, author, location=loc)
    page = await queries.search_locations(stores, "muse", 20, None)
    assert [(h.name, h.post_count) for h in page.items] == [
        ("Musée du Louvre", 3),
        ("Museum of Modern Art", 2),
        ("Museum Without Coordinates", 1),
    ]
    assert [
        h.name for h in (await queries.search_locations(stores, "modern mus", 20, None)).items
    ] == ["Museum of Modern Art"]
    near = await queries.search_locations(
        stores, "", 20, None, lat=48.8566, lng=2.3522, radius_km=20
    )
    assert [h.name for h in near.items] == ["Musée du Louvre", "Tour Eiffel"]
    assert 0 < near.items[0].distance_km < near.items[1].distance_km < 20
    near_museum = await queries.search_locations(
        stores, "musee", 20, None, lat=48.8566, lng=2.3522, radius_km=20
    )
    assert [h.name for h in near_museum.items] == ["Musée du Louvre"]
    hit = await queries.get_location(stores, louvre["id"])
    assert (hit.name, hit.post_count, round(hit.lat, 3)) == ("Musée du Louvre", 3, 48.861)
    posts = await queries.location_posts(stores, None, louvre["id"], "RECENT", 10, None)
    assert len(posts.items) == 3
    # deleting the only post at Tour Eiffel takes it out of search and of the map
    only = (await queries.location_posts(stores, None, eiffel["id"], "RECENT", 10, None)).items[0]
    await stores.db.posts.delete_one({"_id": only["_id"]})
    await emit("post.deleted", deps, post_id=only["_id"], author_id=author)
    near = await queries.search_locations(
        stores, "", 20, None, lat=48.8566, lng=2.3522, radius_km=20
    )
    assert [h.name for h in near.items] == ["Musée du Louvre"]
    assert (await queries.search_locations(stores, "eiffel", 20, None)).items == []


async def test_bad_nearby_arguments_are_bad_input(stores):
    for kwargs in [
        {"lat": 91.0, "lng": 0.0},
        {"lat": 10.0},
        {"lat": 0.0, "lng": 0.0, "radius_km": 0},
        {"lat": 0.0, "lng": 0.0, "radius_km": 100000},
        {"radius_km": 5},
        {"lat": float("nan"), "lng": 0.0},
    ]:
        with pytest.raises(BadInput):
            await queries.search_locations(stores, "", 20, None, **kwargs)


# --- bad input ---------------------------------------------------------------------------


ODD_QUERIES = [
    "",
    "   ",
    ".*",
    "^a",
    "a|b",
    "[",
    "(?i)x",
    "\\",
    "\x00",
    "🙂",
    "ñ" * 3,
    "%",
    "*",
    "\uffff",
]


async def test_odd_queries_give_sensible_results(deps, stores):
    await _user(deps, "nina", full_name="Ñandú")
    for q in ODD_QUERIES:
        users = await queries.search_users(stores, None, q, 20, None)
        tags = await queries.search_hashtags(stores, q, 20, None)
        locs = await queries.search_locations(stores, q, 20, None)
        assert [d["username"] for d in users.items] in ([], ["nina"])
        assert tags.items == [] and locs.items == []


async def test_regex_metacharacters_are_literal(deps, stores):
    await _user(deps, "abc")
    await _user(deps, "xyz")
    assert await _names(stores, None, ".*") == []
    assert await _names(stores, None, "a.*") == ["abc"]  # the word "a"; ".*" is not a pattern


async def test_long_query_is_bad_input(stores):
    for fn in (
        lambda: queries.search_users(stores, None, "x" * 1024, 20, None),
        lambda: queries.search_hashtags(stores, "x" * 1024, 20, None),
        lambda: queries.search_locations(stores, "x" * 1024, 20, None),
    ):
        with pytest.raises(BadInput):
            await fn()


# --- rebuild -----------------------------------------------------------------------------


async def test_a_flushed_index_is_rebuilt_from_mongodb(deps, stores):
    viewer = await _user(deps, "viewer")
    jose = await _user(deps, "jose", full_name="José")
    blocked = await _user(deps, "josefina")
    await _follow(deps, viewer, jose)
    await graph.create_block(stores, viewer, blocked)
    loc = _loc("Plaza Mayor", 40.4155, -3.7074)
    p = await _post(deps, jose, hashtags=["madrid"], location=loc)
    await _post(deps, jose, hashtags=["madrid", "tapas"], status="PROCESSING")

    async def snapshot():
        return (
            await _names(stores, viewer, "jos"),
            await _tags(stores, "ma"),
            [
                (h.name, h.post_count)
                for h in (await queries.search_locations(stores, "plaza", 5, None)).items
            ],
            [
                h.name
                for h in (
                    await queries.search_locations(stores, "", 5, None, lat=40.4, lng=-3.7)
                ).items
            ],
            [
                x["_id"]
                for x in (await queries.hashtag_posts(stores, None, "madrid", "TOP", 5, None)).items
            ],
        )

    before = await snapshot()
    assert before == (["jose"], [("madrid", 1)], [("Plaza Mayor", 1)], ["Plaza Mayor"], [p])
    counts = await index.rebuild_index(stores, batch_size=3)
    assert counts["users"] == 3 and counts["posts"] == 1
    assert await snapshot() == before
    # Lost (as by a FLUSHALL): the first query that finds nothing rebuilds it.
    assert await index.clear_index(stores) > 0
    assert await snapshot() == before


async def test_users_changed_without_an_event_are_synced(stores):
    await index.rebuild_index(stores)  # built, so an empty answer is not taken for a lost index
    uid, _ = await create_user(stores, "silent", full_name="Quiet Person")
    assert await _names(stores, None, "silent") == []
    assert await index.sync_users(stores) == 1
    assert await _names(stores, None, "quiet") == ["silent"]
    assert await index.sync_users(stores, overlap_seconds=0) == 0  # nothing changed since
    await stores.db.users.update_one(
        {"_id": uid}, {"$set": {"full_name": "Loud Person", "updated_at": datetime.now(UTC)}}
    )
    assert await index.sync_users(stores) == 1
    assert await _names(stores, None, "quiet") == []
    assert await _names(stores, None, "loud") == ["silent"]
