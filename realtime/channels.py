"""What travels over Redis pub/sub, and on which channel.

Messages are small JSON pointers (ids and numbers); the receiving process re-reads MongoDB and
re-checks visibility for its own subscriber, so a message never carries data someone may not see
and a late message never shows stale counts.

Channels (all under `REDIS_PREFIX`):
  rt:notif:{user}  a notification for `user` was created or gained an actor
  rt:feed:{user}   new posts wait at the top of `user`'s feed
  rt:post:{post}   a post's like/comment/share counts changed
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from bson import ObjectId
from redis.exceptions import RedisError

from datastore.stores import Stores
from realtime.hub import get_hub

log = logging.getLogger("realtime")


def notification_channel(stores: Stores, user_id: ObjectId) -> str:
    return stores.keys("rt", "notif", user_id)


def feed_channel(stores: Stores, user_id: ObjectId) -> str:
    return stores.keys("rt", "feed", user_id)


def post_channel(stores: Stores, post_id: ObjectId) -> str:
    return stores.keys("rt", "post", post_id)


async def _publish(stores: Stores, channel: str, payload: dict[str, Any]) -> None:
    # Real-time delivery is best effort: the write it reports is already in MongoDB, and a
    # Redis hiccup must not fail the mutation that caused it.
    try:
        await stores.redis.publish(channel, orjson.dumps(payload).decode())
    except (RedisError, OSError) as exc:
        log.warning("publish to %s failed: %s", channel, exc)


async def publish_notification(
    stores: Stores, recipient_id: ObjectId, notification_id: ObjectId
) -> None:
    await _publish(stores, notification_channel(stores, recipient_id), {"id": str(notification_id)})


async def publish_post_update(stores: Stores, post_id: ObjectId) -> None:
    await _publish(stores, post_channel(stores, post_id), {"id": str(post_id)})


async def publish_feed_update(
    stores: Stores, user_id: ObjectId, new_post_count: int, latest_post_id: ObjectId
) -> None:
    """Tell `user_id`'s `feedUpdated` subscribers that `new_post_count` posts wait at the top of
    their feed, the newest being `latest_post_id`. The feed engine calls this after fan-out."""
    await _publish(
        stores,
        feed_channel(stores, user_id),
        {"new_post_count": int(new_post_count), "latest_post_id": str(latest_post_id)},
    )


async def publish_feed_updates(
    stores: Stores, user_ids: list[ObjectId], new_post_count: int, latest_post_id: ObjectId
) -> None:
    """`publish_feed_update` for many users in one round trip per 500 (fan-out batches)."""
    payload = orjson.dumps(
        {"new_post_count": int(new_post_count), "latest_post_id": str(latest_post_id)}
    ).decode()
    try:
        for start in range(0, len(user_ids), 500):
            async with stores.redis.pipeline(transaction=False) as pipe:
                for user_id in user_ids[start : start + 500]:
                    pipe.publish(feed_channel(stores, user_id), payload)
                await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("feed update publish failed: %s", exc)


@contextlib.asynccontextmanager
async def listen(stores: Stores, channel: str) -> AsyncIterator[asyncio.Queue[str]]:
    """Receive the raw messages of `channel` through the process's shared connection."""
    async with get_hub(stores.settings.redis_url).listen(channel) as queue:
        yield queue


async def next_batch(queue: asyncio.Queue[str]) -> list[dict[str, Any]]:
    """Wait for one message, then take whatever else is already queued: a burst of updates
    (200 likes in a second) becomes one re-read instead of 200."""
    raw = [await queue.get()]
    while not queue.empty():
        raw.append(queue.get_nowait())
    out = []
    for item in raw:
        try:
            out.append(orjson.loads(item))
        except orjson.JSONDecodeError:
            log.warning("ignoring a malformed real-time message")
    return out
