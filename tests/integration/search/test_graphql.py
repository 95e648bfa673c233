"""Search over GraphQL: names and shapes of the API contract, errors as BAD_USER_INPUT."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from core.events import Deps, emit
from core.ids import to_global_id
from tests.support.factories import create_ready_post, create_user, follow

USERS = """query($q: String!, $first: Int, $after: String) {
  searchUsers(query: $q, first: $first, after: $after) {
    edges { cursor node { username fullName isPrivate } }
    pageInfo { hasNextPage endCursor }
  }
}"""
HASHTAGS = """query($q: String!) {
  searchHashtags(query: $q) { nodes { name postCount } pageInfo { hasNextPage } }
}"""
HASHTAG = """query($name: String!, $order: PostOrder, $first: Int, $after: String) {
  hashtag(name: $name) {
    name postCount
    posts(order: $order, first: $first, after: $after) {
      nodes { id caption } pageInfo { hasNextPage endCursor }
    }
  }
}"""
LOCATIONS = """query($q: String!, $lat: Float, $lng: Float, $r: Float) {
  searchLocations(query: $q, lat: $lat, lng: $lng, radiusKm: $r) {
    nodes { id name lat lng postCount }
  }
}"""


@pytest.fixture
def deps(app, stores) -> Deps:
    return Deps(stores, app.state.queue)


async def _user(deps, username, **kw):
    uid, token = await create_user(deps.stores, username, **kw)
    await emit("user.registered", deps, user_id=uid)
    return uid, token


async def _post(deps, author, **kw):
    pid = await create_ready_post(deps.stores, author, **kw)
    await emit("post.ready", deps, post_id=pid, author_id=author)
    return pid


async def test_search_users_over_graphql(gql, deps):
    viewer, token = await _user(deps, "viewer")
    jose, _ = await _user(deps, "jose_p", full_name="José Pérez", is_private=True)
    await _user(deps, "josefa", full_name="Josefa", follower_count=50)
    await follow(deps.stores, viewer, jose)
    await emit("user.followed", deps, follower_id=viewer, followee_id=jose)
    body = await gql(USERS, {"q": "jose"}, token=token)
    nodes = [e["node"] for e in body.ok()["searchUsers"]["edges"]]
    assert nodes == [
        {"username": "jose_p", "fullName": "José Pérez", "isPrivate": True},
        {"username": "josefa", "fullName": "Josefa", "isPrivate": False},
    ]
    # anonymous: by follower count only
    body = await gql(USERS, {"q": "JOSE"})
    assert [e["node"]["username"] for e in body.ok()["searchUsers"]["edges"]] == [
        "josefa",
        "jose_p",
    ]
    # paging with the cursor
    first = (await gql(USERS, {"q": "jose", "first": 1}, token=token)).ok()["searchUsers"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = (
        await gql(
            USERS, {"q": "jose", "first": 1, "after": first["pageInfo"]["endCursor"]}, token=token
        )
    ).ok()["searchUsers"]
    assert [e["node"]["username"] for e in second["edges"]] == ["josefa"]
    assert second["pageInfo"]["hasNextPage"] is False


ODD_QUERIES = [
    "",
    " ",
    ".*",
    "^$",
    "(a|b)*",
    "[[",
    "\\d+",
    "\x00",
    "🙂",
    "%_%",
    "\u202e",
    "a\u0301",
]


async def test_odd_queries_never_error(gql, deps):
    await _user(deps, "alpha")
    for q in ODD_QUERIES:
        for query in (USERS, HASHTAGS, LOCATIONS):
            body = await gql(query, {"q": q})
            assert not body.errors, (q, body.errors)


async def test_bad_input_is_bad_user_input(gql, deps):
    long = "a" * 1024
    for query in (USERS, HASHTAGS, LOCATIONS):
        assert (await gql(query, {"q": long})).codes == ["BAD_USER_INPUT"]
    assert (await gql(USERS, {"q": "a", "first": 51})).codes == ["BAD_USER_INPUT"]
    assert (await gql(USERS, {"q": "a", "after": "garbage"})).codes == ["BAD_USER_INPUT"]
    bad_geo = await gql(LOCATIONS, {"q": "", "lat": 100.0, "lng": 0.0})
    assert bad_geo.codes == ["BAD_USER_INPUT"]
    assert (await gql(LOCATIONS, {"q": "", "lat": 1.0})).codes == ["BAD_USER_INPUT"]
    bad_loc = await gql('{ location(id: "nope") { id } }')
    assert bad_loc.codes == ["BAD_USER_INPUT"]


async def test_hashtags_and_hashtag_page(gql, deps):
    _viewer, token = await _user(deps, "viewer")
    author, _ = await _user(deps, "author")
    hidden, _ = await _user(deps, "hidden", is_private=True)
    now = datetime.now(UTC)
    old = await _post(
        deps,
        author,
        caption="old #Travel",
        hashtags=["travel"],
        created_at=now - timedelta(hours=2),
    )
    new = await _post(deps, author, caption="new #travel", hashtags=["travel", "trip"])
    await _post(deps, hidden, caption="private #travel", hashtags=["travel"])
    await _post(deps, author, caption="#trains", hashtags=["trains"])
    body = await gql(HASHTAGS, {"q": "#TRA"})
    assert body.ok()["searchHashtags"]["nodes"] == [
        {"name": "travel", "postCount": 3},
        {"name": "trains", "postCount": 1},
    ]
    body = await gql(HASHTAG, {"name": "#Travel", "order": "RECENT"}, token=token)
    tag = body.ok()["hashtag"]
    assert (tag["name"], tag["postCount"]) == ("travel", 3)
    assert [n["id"] for n in tag["posts"]["nodes"]] == [
        to_global_id("Post", new),
        to_global_id("Post", old),
    ]
    # TOP, one per page
    ids, after = [], None
    while True:
        page = (
            await gql(HASHTAG, {"name": "travel", "order": "TOP", "first": 1, "after": after})
        ).ok()["hashtag"]["posts"]
        ids += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(ids) == sorted([to_global_id("Post", new), to_global_id("Post", old)])
    assert (await gql(HASHTAG, {"name": "nosuchtag"})).ok()["hashtag"] is None


async def test_locations_over_graphql(gql, deps):
    author, _ = await _user(deps, "author")
    loc = {"id": ObjectId(), "name": "Café de Flore", "lat": 48.854, "lng": 2.3326}
    await asyncio.gather(*(_post(deps, author, location=loc) for _ in range(2)))
    body = await gql(LOCATIONS, {"q": "cafe"})
    gid = to_global_id("Location", loc["id"])
    assert body.ok()["searchLocations"]["nodes"] == [
        {"id": gid, "name": "Café de Flore", "lat": 48.854, "lng": 2.3326, "postCount": 2}
    ]
    near = await gql(LOCATIONS, {"q": "", "lat": 48.85, "lng": 2.33, "r": 1.0})
    assert [n["name"] for n in near.ok()["searchLocations"]["nodes"]] == ["Café de Flore"]
    far = await gql(LOCATIONS, {"q": "", "lat": 40.0, "lng": -74.0, "r": 50.0})
    assert far.ok()["searchLocations"]["nodes"] == []
    one = await gql("query($id: ID!) { location(id: $id) { name postCount } }", {"id": gid})
    assert one.ok()["location"] == {"name": "Café de Flore", "postCount": 2}


async def test_location_posts_hide_what_the_viewer_may_not_see(gql, deps):
    viewer, token = await _user(deps, "viewer")
    public, _ = await _user(deps, "public")
    private, _ = await _user(deps, "private", is_private=True)
    loc = {"id": ObjectId(), "name": "Plaza Mayor", "lat": 40.4155, "lng": -3.7074}
    now = datetime.now(UTC)
    shown = [
        await _post(deps, public, location=loc, created_at=now - timedelta(minutes=m))
        for m in (1, 2, 3)
    ]
    await _post(deps, private, location=loc)
    query = """query($id: ID!, $after: String) { location(id: $id) {
        postCount posts(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } }
    } }"""
    gid = to_global_id("Location", loc["id"])
    first = (await gql(query, {"id": gid}, token=token)).ok()["location"]
    assert first["postCount"] == 4
    second = (
        await gql(query, {"id": gid, "after": first["posts"]["pageInfo"]["endCursor"]}, token=token)
    ).ok()["location"]["posts"]
    ids = [n["id"] for n in first["posts"]["nodes"] + second["nodes"]]
    assert ids == [to_global_id("Post", p) for p in shown]
    assert second["pageInfo"]["hasNextPage"] is False
    assert viewer
