"""What users made before a fault, made through the API, and the checks that it all survived.

alice posts a photo; bob and carol follow her (and she follows bob); bob and carol like the
post and bob comments on it. `check_world` then asks, as those users, for everything a user
would notice missing: the feed, the counts, the comments, the profile and its grid, the
notifications, logging in and rotating a refresh token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.drills.harness import Answer, DrillClient, eventually
from tests.support import samples

PASSWORD = "drill-password-1"

REGISTER = """mutation($i: RegisterInput!) {
  register(input: $i) { accessToken refreshToken user { id username } } }"""
LOGIN = """mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }"""
REFRESH = (
    """mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"""
)
FOLLOW = "mutation($u: ID!) { follow(userId: $u) { status } }"
UPLOAD_URL = """mutation($i: CreateUploadUrlInput!) {
  createUploadUrl(input: $i) { uploadId url headers { name value } } }"""
CREATE_POST = """mutation($i: CreatePostInput!) { createPost(input: $i) { id status } }"""
LIKE = "mutation($p: ID!) { likePost(postId: $p) { id likeCount } }"
COMMENT = "mutation($i: AddCommentInput!) { addComment(input: $i) { id text } }"
POST = """query($p: ID!) { post(id: $p) {
  id status likeCount commentCount
  likers(first: 50) { nodes { username } }
  comments(first: 50) { nodes { text author { username } } } } }"""
FEED = "query { feed(first: 20) { nodes { id author { username } } } }"
PROFILE = """query($u: String!) { user(username: $u) {
  username followerCount followingCount postCount posts(first: 20) { nodes { id } } } }"""
NOTIFICATIONS = """query { unreadNotificationCount
  notifications(first: 20) { nodes { type actors { username } } } }"""
SEARCH = "query($q: String!) { searchUsers(query: $q, first: 10) { nodes { username } } }"


@dataclass
class Account:
    username: str
    id: str
    token: str
    refresh: str


@dataclass
class World:
    alice: Account
    bob: Account
    carol: Account
    post_id: str
    comment: str
    likers: set[str] = field(default_factory=set)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


async def register(gql: DrillClient, prefix: str) -> Account:
    name = unique(prefix)
    variables = {"i": {"username": name, "email": f"{name}@example.test", "password": PASSWORD}}
    out = (await gql(REGISTER, variables)).ok()["register"]
    return Account(name, out["user"]["id"], out["accessToken"], out["refreshToken"])


async def upload_photo(gql: DrillClient, token: str, data: bytes) -> str:
    ticket = (
        await gql(UPLOAD_URL, {"i": {"contentType": "image/jpeg", "size": len(data)}}, token)
    ).ok()["createUploadUrl"]
    headers = {h["name"]: h["value"] for h in ticket["headers"]}
    async with httpx.AsyncClient(timeout=60) as client:
        resp = await client.put(ticket["url"], content=data, headers=headers)
    assert resp.status_code == 200, resp.text
    return ticket["uploadId"]


async def create_post(gql: DrillClient, token: str, data: bytes, caption: str = "") -> str:
    upload_id = await upload_photo(gql, token, data)
    variables = {"i": {"media": [{"uploadId": upload_id}], "caption": caption}}
    created = (await gql(CREATE_POST, variables, token)).ok()["createPost"]
    assert created["status"] == "PROCESSING"
    return created["id"]


async def post_of(gql: DrillClient, post_id: str, token: str) -> dict[str, Any]:
    return (await gql(POST, {"p": post_id}, token)).ok()["post"]


async def wait_ready_and_delivered(
    gql: DrillClient, post_id: str, author: Account, follower: Account, seconds: float = 60
) -> None:
    """The post turns READY (the worker rendered it) and reaches the follower's feed."""

    async def ready() -> bool:
        return (await post_of(gql, post_id, author.token))["status"] == "READY"

    async def delivered() -> bool:
        return post_id in await feed_ids(gql, follower)

    await eventually(ready, seconds)
    await eventually(delivered, seconds)


async def feed_ids(gql: DrillClient, viewer: Account) -> list[str]:
    return [p["id"] for p in (await gql(FEED, token=viewer.token)).ok()["feed"]["nodes"]]


async def build_world(gql: DrillClient) -> World:
    """Needs a worker running (the photo is rendered and fanned out by it)."""
    alice, bob, carol = [await register(gql, p) for p in ("alice", "bob", "carol")]
    for follower, followee in ((bob, alice), (carol, alice), (alice, bob)):
        (await gql(FOLLOW, {"u": followee.id}, follower.token)).ok()
    post_id = await create_post(gql, alice.token, samples.photo(640, 480), "drill #fault")
    await wait_ready_and_delivered(gql, post_id, alice, bob)
    for fan in (bob, carol):
        (await gql(LIKE, {"p": post_id}, fan.token)).ok()
    comment = "still here after the fault?"
    (await gql(COMMENT, {"i": {"postId": post_id, "text": comment}}, bob.token)).ok()
    return World(alice, bob, carol, post_id, comment, {bob.username, carol.username})


async def check_world(gql: DrillClient, world: World) -> dict[str, Any]:
    """Everything made before the fault, as its users see it. Returns the counts seen."""
    alice, bob, carol = world.alice, world.bob, world.carol
    assert world.post_id in await feed_ids(gql, bob)
    assert world.post_id in await feed_ids(gql, carol)

    post = await post_of(gql, world.post_id, bob.token)
    likers = {u["username"] for u in post["likers"]["nodes"]}
    assert likers == world.likers, likers
    assert post["likeCount"] == len(world.likers), post
    assert post["commentCount"] == 1, post
    assert [(c["text"], c["author"]["username"]) for c in post["comments"]["nodes"]] == [
        (world.comment, bob.username)
    ]

    profile = (await gql(PROFILE, {"u": alice.username}, bob.token)).ok()["user"]
    assert (profile["followerCount"], profile["followingCount"], profile["postCount"]) == (2, 1, 1)
    assert [p["id"] for p in profile["posts"]["nodes"]] == [world.post_id]

    notes = (await gql(NOTIFICATIONS, token=alice.token)).ok()
    kinds = {n["type"] for n in notes["notifications"]["nodes"]}
    assert {"LIKE", "COMMENT", "FOLLOW"} <= kinds, notes
    assert notes["unreadNotificationCount"] >= 1, notes

    # A session survives: log in again, and rotate the refresh token issued before the fault.
    (await gql(LOGIN, {"i": {"login": alice.username, "password": PASSWORD}})).ok()
    rotated = (await gql(REFRESH, {"t": alice.refresh})).ok()["refreshToken"]
    alice.refresh = rotated["refreshToken"]
    return {
        "like_count": post["likeCount"],
        "likers": len(likers),
        "comment_count": post["commentCount"],
        "follower_count": profile["followerCount"],
        "post_count": profile["postCount"],
        "notifications": len(notes["notifications"]["nodes"]),
    }


async def search_finds(gql: DrillClient, viewer: Account, account: Account) -> bool:
    answer: Answer = await gql(SEARCH, {"q": account.username[:5]}, viewer.token)
    nodes = answer.ok()["searchUsers"]["nodes"]
    return account.username in {u["username"] for u in nodes}
