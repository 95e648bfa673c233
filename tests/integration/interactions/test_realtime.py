"""Subscriptions over real WebSockets against two real uvicorn processes sharing one Redis:
events published on one process reach subscribers on the other, never leak to someone who may
not see them, and leave no Redis subscription behind when the client goes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import websockets

from core.events import Deps, emit
from core.ids import to_global_id
from core.settings import Settings
from datastore.stores import Stores, open_stores, prepare_stores
from realtime.channels import notification_channel, post_channel, publish_feed_update
from tests.integration.interactions.helpers import (
    subscribe,
    wait_for_no_subscribers,
    wait_for_numsub,
)
from tests.support.factories import create_ready_post, create_user, follow
from tests.support.graphql import GraphQLClient
from tests.support.isolation import drop_everything, isolated_settings
from tests.support.processes import api_server


@dataclass
class Cluster:
    settings: Settings
    stores: Stores
    ws_a: str  # subscribe here
    http_b: GraphQLClient  # act here
    ws_b: str


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[Cluster]:
    settings = isolated_settings()
    stores = open_stores(settings)
    await prepare_stores(stores)
    try:
        with api_server(settings) as a, api_server(settings) as b:
            async with httpx.AsyncClient(base_url=b, timeout=30) as http:
                yield Cluster(
                    settings,
                    stores,
                    a.replace("http", "ws") + "/graphql",
                    GraphQLClient(http),
                    b.replace("http", "ws") + "/graphql",
                )
    finally:
        await stores.close()
        await drop_everything(settings)


def gid(kind, oid):
    return to_global_id(kind, oid)


LIKE = "mutation($id: ID!) { likePost(postId: $id) { likeCount } }"
UNLIKE = "mutation($id: ID!) { unlikePost(postId: $id) { likeCount } }"
COMMENT = "mutation($p: ID!, $t: String!) { addComment(input: {postId: $p, text: $t}) { id } }"
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"
NOTIFICATION_ADDED = """subscription { notificationAdded {
  id type actorCount actors(first: 5) { username } post { id likeCount } comment { text } } }"""
POST_UPDATED = """subscription($id: ID!) { postUpdated(postId: $id) {
  id likeCount commentCount shareCount viewerHasLiked } }"""
FEED_UPDATED = "subscription { feedUpdated { newPostCount latestPost { id } } }"


async def test_a_like_on_one_process_notifies_a_subscriber_on_the_other(cluster):
    s, gql = cluster.stores, cluster.http_b
    author, author_token = await create_user(s, "n_author")
    (b, b_token), (c, c_token), (d, d_token) = [
        await create_user(s, name) for name in ("n_bea", "n_cal", "n_dan")
    ]
    post_id = await create_ready_post(s, author)
    pid = gid("Post", post_id)

    async with subscribe(cluster.ws_a, author_token, NOTIFICATION_ADDED) as sub:
        await wait_for_numsub(s, notification_channel(s, author), 1)
        (await gql(LIKE, {"id": pid}, token=b_token)).ok()
        first = (await sub.next())["notificationAdded"]
        assert first["type"] == "LIKE" and first["actorCount"] == 1
        assert first["actors"] == [{"username": "n_bea"}]
        assert first["post"] == {"id": pid, "likeCount": 1}

        (await gql(LIKE, {"id": pid}, token=c_token)).ok()
        second = (await sub.next())["notificationAdded"]
        assert second["id"] == first["id"] and second["actorCount"] == 2
        assert second["actors"] == [{"username": "n_cal"}, {"username": "n_bea"}]

        # Liking and unliking again and again pushes nothing: the next message is the comment.
        for _ in range(5):
            (await gql(UNLIKE, {"id": pid}, token=b_token)).ok()
            (await gql(LIKE, {"id": pid}, token=b_token)).ok()
        (await gql(LIKE, {"id": pid}, token=author_token)).ok()  # own action: nothing
        (await gql(COMMENT, {"p": pid, "t": "lovely"}, token=d_token)).ok()
        third = (await sub.next())["notificationAdded"]
        assert third["type"] == "COMMENT" and third["comment"] == {"text": "lovely"}

        # Someone the author blocked mentions them: nothing; then a friend does: delivered.
        (await gql(BLOCK, {"id": gid("User", c)}, token=author_token)).ok()
        friend_post = gid("Post", await create_ready_post(s, d))
        (await gql(COMMENT, {"p": friend_post, "t": "@n_author hi"}, token=c_token)).ok()
        (await gql(COMMENT, {"p": friend_post, "t": "@n_author yo"}, token=d_token)).ok()
        fourth = (await sub.next())["notificationAdded"]
        assert fourth["type"] == "MENTION" and fourth["comment"] == {"text": "@n_author yo"}
        assert fourth["actors"] == [{"username": "n_dan"}]
    del b


async def test_post_updated_streams_live_counts_only_to_those_who_may_see_it(cluster):
    s, gql = cluster.stores, cluster.http_b
    owner, owner_token = await create_user(s, "p_owner", is_private=True)
    viewer, viewer_token = await create_user(s, "p_viewer")
    fan, fan_token = await create_user(s, "p_fan")
    _, outsider_token = await create_user(s, "p_outsider")
    await follow(s, viewer, owner)
    await follow(s, fan, owner)
    pid = gid("Post", await create_ready_post(s, owner))

    # Not allowed to see the post: refused, and nothing subscribed.
    async with subscribe(cluster.ws_a, outsider_token, POST_UPDATED, {"id": pid}) as sub:
        msg = await sub.raw()
        assert msg["type"] in ("error", "next"), msg
        errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"

    async with subscribe(cluster.ws_a, viewer_token, POST_UPDATED, {"id": pid}) as sub:
        snapshot = (await sub.next())["postUpdated"]  # the current state, once subscribed
        assert (snapshot["likeCount"], snapshot["commentCount"]) == (0, 0)
        (await gql(LIKE, {"id": pid}, token=fan_token)).ok()
        update = (await sub.next())["postUpdated"]
        assert (update["likeCount"], update["viewerHasLiked"]) == (1, False)
        (await gql(LIKE, {"id": pid}, token=viewer_token)).ok()
        update = (await sub.next())["postUpdated"]
        assert (update["likeCount"], update["viewerHasLiked"]) == (2, True)
        (await gql(COMMENT, {"p": pid, "t": "hey"}, token=fan_token)).ok()
        assert (await sub.next())["postUpdated"]["commentCount"] == 1

        # The owner blocks the viewer: the next change ends the stream instead of showing it.
        (await gql(BLOCK, {"id": gid("User", viewer)}, token=owner_token)).ok()
        (await gql(UNLIKE, {"id": pid}, token=fan_token)).ok()
        msg = await sub.raw()
        assert msg["type"] == "complete", msg

    # Deleting the post completes the stream of anyone watching it.
    async with subscribe(cluster.ws_a, fan_token, POST_UPDATED, {"id": pid}) as sub:
        await sub.next()
        body = await gql(
            "mutation($id: ID!) { deletePost(id: $id) }", {"id": pid}, token=owner_token
        )
        assert body.ok() == {"deletePost": True}
        msg = await sub.raw()
        assert msg["type"] == "complete", msg


async def test_feed_updated_reaches_the_viewer_with_a_visible_latest_post(cluster):
    s = cluster.stores
    viewer, viewer_token = await create_user(s, "f_viewer")
    author, _ = await create_user(s, "f_author")
    secret, _ = await create_user(s, "f_secret", is_private=True)
    post_id = await create_ready_post(s, author)
    hidden_id = await create_ready_post(s, secret)
    async with subscribe(cluster.ws_a, viewer_token, FEED_UPDATED) as sub:
        await wait_for_numsub(s, s.keys("rt", "feed", viewer), 1)
        await publish_feed_update(s, viewer, 3, post_id)
        assert (await sub.next())["feedUpdated"] == {
            "newPostCount": 3,
            "latestPost": {"id": gid("Post", post_id)},
        }
        await publish_feed_update(s, viewer, 1, hidden_id)
        assert (await sub.next())["feedUpdated"] == {"newPostCount": 1, "latestPost": None}
        # The feed engine's fan-out (in the worker) announces through the same channel.
        newer = await create_ready_post(s, author)
        await emit(
            "feed.delivered",
            Deps(s, None),  # type: ignore[arg-type]
            author_id=author,
            post_ids=[str(newer), str(post_id)],
            user_ids=[viewer],
        )
        assert (await sub.next())["feedUpdated"] == {
            "newPostCount": 2,
            "latestPost": {"id": gid("Post", newer)},
        }


async def test_one_redis_subscription_per_process_and_none_after_disconnect(cluster):
    s = cluster.stores
    author, _ = await create_user(s, "c_author")
    viewers = [await create_user(s, f"c_viewer{i}") for i in range(6)]
    post_id = await create_ready_post(s, author)
    pid = gid("Post", post_id)
    channel = post_channel(s, post_id)
    rt_prefix = s.keys("rt", "")
    patterns_before = await s.redis.pubsub_numpat()

    async def open_one(url: str, token: str, stack):
        sub = await stack.enter_async_context(subscribe(url, token, POST_UPDATED, {"id": pid}))
        await sub.next()  # the snapshot: subscribed
        return sub

    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        for i, (_, token) in enumerate(viewers):
            await open_one(cluster.ws_a if i < 4 else cluster.ws_b, token, stack)
        notif = await stack.enter_async_context(
            subscribe(cluster.ws_a, viewers[0][1], NOTIFICATION_ADDED)
        )
        await wait_for_numsub(s, notification_channel(s, viewers[0][0]), 1)
        # Six clients on two processes: one Redis subscriber per process.
        counts = dict(await s.redis.pubsub_numsub(channel))
        assert counts[channel] == 2
        # A client that stops one subscription but keeps its socket releases that channel.
        await notif.ws.send(json.dumps({"id": "1", "type": "complete"}))
        await wait_for_numsub(s, notification_channel(s, viewers[0][0]), 0, at_most=True)
        assert dict(await s.redis.pubsub_numsub(channel))[channel] == 2
    # Every client gone: no channel of ours is subscribed any more, and no pattern either.
    await wait_for_no_subscribers(s, rt_prefix)
    assert await s.redis.pubsub_numsub(channel) == [(channel, 0)]
    assert await s.redis.pubsub_numpat() <= patterns_before


async def test_a_bad_or_missing_token_is_refused_at_connection_init(cluster):
    for payload in ({"authorization": "Bearer nope"}, {}):
        async with websockets.connect(cluster.ws_a, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 4403
