"""One Redis pub/sub connection per process, fanned out in-process to local subscribers.

Every WebSocket subscription in a process shares the hub's single connection: the first local
listener of a channel SUBSCRIBEs it, the last one to leave UNSUBSCRIBEs it, and when nobody is
listening at all the connection is closed. So Redis sees one subscriber per process and channel
(not one per client), and a disconnected client leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger("realtime.hub")

# A subscriber that stops reading loses its oldest messages instead of growing memory without
# bound; every consumer here re-reads state from MongoDB, so a dropped message is only a
# skipped intermediate value.
QUEUE_SIZE = 256
_IDLE_POLL_SECONDS = 1.0


class Hub:
    def __init__(self, redis_url: str) -> None:
        # Its own client: the shared one has a 5 s socket timeout, wrong for a connection that
        # waits for messages; this one is only ever used for the one pub/sub connection.
        self._redis = Redis.from_url(
            redis_url,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_keepalive=True,
            health_check_interval=30,
        )
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners: dict[str, set[asyncio.Queue[str]]] = {}
        self._lock = asyncio.Lock()

    @property
    def channels(self) -> list[str]:
        return list(self._listeners)

    @contextlib.asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue receiving every message published on `channel` from the moment this returns
        (the SUBSCRIBE has been sent and acknowledged by the time the body runs)."""
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        await self._add(channel, queue)
        try:
            yield queue
        finally:
            # Shielded: the subscription task is usually being cancelled right now (client
            # gone), and the UNSUBSCRIBE must still happen.
            await asyncio.shield(self._remove(channel, queue))

    async def _add(self, channel: str, queue: asyncio.Queue[str]) -> None:
        async with self._lock:
            listeners = self._listeners.get(channel)
            if listeners is None:
                if self._pubsub is None:
                    self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                await self._pubsub.subscribe(channel)
                listeners = self._listeners[channel] = set()
            listeners.add(queue)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(self._pubsub))

    async def _remove(self, channel: str, queue: asyncio.Queue[str]) -> None:
        async with self._lock:
            listeners = self._listeners.get(channel)
            if listeners is None:
                return
            listeners.discard(queue)
            if listeners:
                return
            del self._listeners[channel]
            pubsub = self._pubsub
            if pubsub is None:
                return
            if self._listeners:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.unsubscribe(channel)
                return
            # Nobody left in this process: stop reading and give the connection back, which
            # drops every subscription it held.
            self._pubsub = None
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def _read(self, pubsub: PubSub) -> None:
        backoff = 0.1
        while True:
            try:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=_IDLE_POLL_SECONDS
                )
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                # redis-py reconnects on the next read and re-subscribes every channel.
                log.warning("pub/sub read failed, retrying in %.1fs: %s", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not message or message.get("type") != "message":
                continue
            for queue in tuple(self._listeners.get(message["channel"], ())):
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(message["data"])

    async def close(self) -> None:
        async with self._lock:
            self._listeners.clear()
            if self._reader is not None:
                self._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._reader
                self._reader = None
            if self._pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.aclose()
                self._pubsub = None
        await self._redis.aclose()


_HUBS: dict[tuple[str, int], Hub] = {}


def get_hub(redis_url: str) -> Hub:
    """The process's hub for this Redis (one per event loop, as asyncio objects are bound to
    the loop that made them)."""
    key = (redis_url, id(asyncio.get_running_loop()))
    hub = _HUBS.get(key)
    if hub is None:
        hub = _HUBS[key] = Hub(redis_url)
    return hub
