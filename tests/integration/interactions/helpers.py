"""Shared helpers for the interactions tests: users in bulk, WebSocket subscriptions, Redis
subscription counts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from bson import ObjectId

from core.events import Deps
from datastore.stores import Stores
from tests.support.factories import create_user


def deps_of(app: Any) -> Deps:
    return Deps(app.state.stores, app.state.queue)


async def many_users(stores: Stores, prefix: str, n: int) -> list[tuple[ObjectId, str]]:
    return list(await asyncio.gather(*(create_user(stores, f"{prefix}{i}") for i in range(n))))


class Subscription:
    """One graphql-transport-ws connection running one subscription."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def next(self, within: float = 10) -> dict:
        """The next `next` payload's data; fails on an error or a timeout."""
        while True:
            msg = await self.raw(within)
            if msg["type"] == "next":
                assert not msg["payload"].get("errors"), msg
                return msg["payload"]["data"]
            if msg["type"] in ("error", "complete"):
                raise AssertionError(f"subscription ended: {msg}")

    async def raw(self, within: float = 10) -> dict:
        """The next message other than a keep-alive ping (which it answers)."""
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), within))
            if msg["type"] != "ping":
                return msg
            await self.ws.send('{"type":"pong"}')

    async def nothing_within(self, within: float) -> None:
        """Assert no message arrives within `timeout` (a negative claim; the positive event
        sent right after proves the channel is live)."""
        try:
            msg = await asyncio.wait_for(self.ws.recv(), within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {msg}")


@asynccontextmanager
async def subscribe(
    url: str, token: str, query: str, variables: dict | None = None
) -> AsyncIterator[Subscription]:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        yield Subscription(ws)


async def numsub(stores: Stores, channel: str) -> int:
    result = await stores.redis.pubsub_numsub(channel)
    return int(result[0][1]) if result else 0


async def wait_for_numsub(
    stores: Stores, channel: str, count: int, within: float = 10, *, at_most: bool = False
) -> None:
    """Wait until Redis reports at least (or, `at_most`, at most) `count` subscribers on
    `channel`: e.g. the server has really subscribed, so an event published now reaches it."""

    def done(n: int) -> bool:
        return n <= count if at_most else n >= count

    async def poll() -> None:
        # Polls Redis's own count (no event announces a subscription); bounded by `within`.
        while not done(await numsub(stores, channel)):  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), within)


async def wait_for_no_subscribers(stores: Stores, prefix: str, within: float = 10) -> None:
    async def poll() -> None:
        while True:
            channels = await stores.redis.pubsub_channels(f"{prefix}*")
            if not channels:
                return
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), within)


async def block(stores: Stores, blocker: ObjectId, blocked: ObjectId) -> None:
    """Record a block as the accounts service does (MongoDB edge and Redis block sets)."""
    from datastore.graph import create_block

    assert await create_block(stores, blocker, blocked)
