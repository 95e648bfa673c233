"""`postUpdated` at width, over real WebSockets against a real uvicorn process: the payload is
rendered once per group of subscribers who would get the same bytes, visibility still holds per
viewer on a mixed audience, bursts are coalesced to the latest counts, and a socket that stops
reading is closed (4008) without holding up anyone else."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
import websockets

from core.ids import to_global_id
from core.settings import Settings
from datastore.stores import Stores, open_stores, prepare_stores
from tests.integration.interactions.helpers import Subscription, subscribe
from tests.support.factories import create_ready_post, create_user, follow
from tests.support.graphql import GraphQLClient
from tests.support.isolation import drop_everything, isolated_settings
from tests.support.processes import api_server

COALESCE_S = 1.0
STALL_S = 2.0

LIKE = "mutation($id: ID!) { likePost(postId: $id) { likeCount } }"
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"
UNFOLLOW = "mutation($id: ID!) { unfollow(userId: $id) { id } }"
SHARED = "subscription($id: ID!) { postUpdated(postId: $id) { id likeCount } }"
PERSONAL = "subscription($id: ID!) { postUpdated(postId: $id) { likeCount viewerHasLiked } }"


@dataclass
class Server:
    stores: Stores
    base: str
    ws: str
    gql: GraphQLClient

    async def metric(self, name: str) -> float:
        async with httpx.AsyncClient(timeout=10) as http:
            text = (await http.get(f"{self.base}/metrics")).text
        found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
        return float(found.group(1)) if found else 0.0

    async def metric_reaches(self, name: str, value: float, within: float = 20) -> None:
        deadline = time.monotonic() + within
        while (seen := await self.metric(name)) != value:
            assert time.monotonic() < deadline, f"{name} is {seen}, not {value}"
            await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[Server]:
    settings: Settings = isolated_settings()
    settings.realtime_coalesce_ms = int(COALESCE_S * 1000)
    settings.ws_stall_seconds = STALL_S
    settings.ws_outbox_max_messages = 16
    stores = open_stores(settings)
    await prepare_stores(stores)
    try:
        with api_server(settings) as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                yield Server(
                    stores, base, base.replace("http", "ws") + "/graphql", GraphQLClient(http)
                )
    finally:
        await stores.close()
        await drop_everything(settings)


def gid(kind, oid):
    return to_global_id(kind, oid)


async def until_count(sub: Subscription, likes: int, within: float = 20) -> dict:
    """Updates until one shows `likes` likes (earlier counts may have been coalesced away)."""
    deadline = time.monotonic() + within
    while True:
        data = (await sub.next(max(0.1, deadline - time.monotonic())))["postUpdated"]
        if data["likeCount"] == likes:
            return data


async def test_one_rendering_per_group_and_visibility_per_viewer(server):
    s, gql = server.stores, server.gql
    owner, owner_token = await create_user(s, "w_owner", is_private=True)
    users = {
        name: await create_user(s, f"w_{name}") for name in ("ann", "bob", "cat", "dan", "eve")
    }
    for uid, _ in users.values():
        await follow(s, uid, owner)
    _, liker_token = users["cat"]
    pid = gid("Post", await create_ready_post(s, owner))
    plan = {"ann": SHARED, "bob": SHARED, "dan": SHARED, "cat": PERSONAL, "eve": PERSONAL}
    async with AsyncExitStack() as stack:
        subs = {}
        for name, query in plan.items():
            sub = await stack.enter_async_context(
                subscribe(server.ws, users[name][1], query, {"id": pid})
            )
            assert (await sub.next())["postUpdated"]["likeCount"] == 0  # the snapshot
            subs[name] = sub
        # Each one counts as a running subscription (the snapshot's own operation has ended).
        await server.metric_reaches("photogram_active_subscriptions", 5)
        # One viewer is no longer an approved follower, another is blocked by the owner.
        (await gql(UNFOLLOW, {"id": gid("User", owner)}, token=users["dan"][1])).ok()
        (await gql(BLOCK, {"id": gid("User", users["eve"][0])}, token=owner_token)).ok()
        renders = await server.metric("photogram_realtime_renders_total")

        (await gql(LIKE, {"id": pid}, token=liker_token)).ok()
        for name in ("ann", "bob"):
            assert (await subs[name].next())["postUpdated"] == {"id": pid, "likeCount": 1}
        assert (await subs["cat"].next())["postUpdated"] == {
            "likeCount": 1,
            "viewerHasLiked": True,
        }
        for name in ("dan", "eve"):
            assert (await subs[name].raw())["type"] == "complete", name
        # Three viewers got the new count from two renderings: one for the shared document
        # (ann, bob), one for the document that asks about its viewer (cat).
        assert await server.metric("photogram_realtime_renders_total") - renders == 2
        await server.metric_reaches("photogram_active_subscriptions", 3)
    await server.metric_reaches("photogram_active_subscriptions", 0)


async def test_a_burst_of_likes_is_coalesced_to_the_latest_counts(server):
    s, gql = server.stores, server.gql
    author, _ = await create_user(s, "b_author")
    likers = [await create_user(s, f"b_liker{i}") for i in range(12)]
    pid = gid("Post", await create_ready_post(s, author))
    _, watcher_token = await create_user(s, "b_watcher")
    async with subscribe(server.ws, watcher_token, SHARED, {"id": pid}) as sub:
        await sub.next()
        started = time.monotonic()

        async def like_steadily() -> None:  # a like every ~0.1 s: about 10 per interval
            for _, token in likers:
                (await gql(LIKE, {"id": pid}, token=token)).ok()
                await asyncio.sleep(0.1)

        liking = asyncio.create_task(like_steadily())
        counts, arrivals = [], []
        while not counts or counts[-1] < len(likers):
            counts.append((await sub.next(20))["postUpdated"]["likeCount"])
            arrivals.append(time.monotonic())
        await liking
        elapsed = time.monotonic() - started
        assert counts == sorted(counts) and counts[-1] == len(likers)
        # At most one message per interval (the first at once): far fewer than 12 likes, and
        # spaced by about the interval (half of it allowed for a loaded machine's jitter).
        assert len(counts) <= elapsed / COALESCE_S + 2, (counts, elapsed)
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        assert all(gap > COALESCE_S / 2 for gap in gaps), (counts, gaps)
        await sub.nothing_within(COALESCE_S * 1.5)  # nothing stale trails behind


def _slow_socket() -> socket.socket:
    """A client socket with a tiny receive buffer: once its reader stops, the server's writes
    back up within a few tens of kilobytes."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    return sock


async def test_a_stalled_socket_is_closed_and_never_delays_the_others(server):
    s, gql = server.stores, server.gql
    author, _ = await create_user(s, "s_author")
    slow_user, slow_token = await create_user(s, "s_slow")
    _, fast_token = await create_user(s, "s_fast")
    likers = [await create_user(s, f"s_liker{i}") for i in range(5)]
    # Big messages (40 x a 20,000-character random caption: 800 KB, incompressible) fill the
    # buffers in a few updates.
    post_id = await create_ready_post(s, author, caption=os.urandom(10_000).hex())
    pid = gid("Post", post_id)
    big = " ".join(f"c{i}: caption" for i in range(40))
    query = f"subscription($id: ID!) {{ postUpdated(postId: $id) {{ likeCount {big} }} }}"
    closes = await server.metric("photogram_websocket_slow_consumer_closes_total")

    sock = _slow_socket()
    host, port = server.base.removeprefix("http://").split(":")
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    async with websockets.connect(
        server.ws,
        sock=sock,
        subprotocols=["graphql-transport-ws"],
        max_queue=1,
        max_size=None,
        compression=None,
    ) as slow:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {slow_token}"}}
        await slow.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(slow.recv(), 10))["type"] == "connection_ack"
        sub_msg = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": query, "variables": {"id": pid}},
        }
        await slow.send(json.dumps(sub_msg))
        # From here the slow client reads nothing.
        async with subscribe(server.ws, fast_token, query, {"id": pid}) as fast:
            await fast.next()
            for n, (_, token) in enumerate(likers, start=1):
                (await gql(LIKE, {"id": pid}, token=token)).ok()
                # The fast subscriber sees every new count while the slow one backs up.
                assert (await until_count(fast, n))["likeCount"] == n
            deadline = time.monotonic() + 30
            while await server.metric("photogram_websocket_slow_consumer_closes_total") == closes:
                assert time.monotonic() < deadline, "the stalled socket was never closed"
                await asyncio.sleep(0.2)
            # The slow socket is gone on the server: its connection slot is released...
            key = s.keys("ws", slow_user)
            while await s.redis.zcard(key):
                assert time.monotonic() < deadline, "the stalled socket's slot was kept"
                await asyncio.sleep(0.2)
            # ...and the fast one goes on.
            (await gql(LIKE, {"id": pid}, token=slow_token)).ok()
            await until_count(fast, len(likers) + 1)
        # Reading now finds the connection ended before all updates arrived.
        with pytest.raises(websockets.ConnectionClosed):
            for _ in range(100):
                await asyncio.wait_for(slow.recv(), 10)
