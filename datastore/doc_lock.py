"""Serialized writes to one MongoDB document.

Why: FerretDB 1.x (our local MongoDB) applies `update_one` as a read-modify-write of the whole
document without isolation. 200 concurrent `$inc`s on one document end up far below 200, and a
concurrent `$set` of one field can undo an `$inc` of another. A real MongoDB applies each update
atomically, so with `settings.serialize_document_writes = False` these helpers are plain updates.

Every writer of a document that others write concurrently (counters on `users`, profile edits,
`last_active_at`) goes through `update_document`, which holds a short Redis lock per document
(redis-py's `Lock`: SET NX PX with a token, released by a Lua compare-and-delete).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from bson import ObjectId

from datastore.stores import Stores

# A lock outlives a crashed holder by at most this long; an update takes milliseconds.
_LOCK_TIMEOUT_SECONDS = 5.0
_WAIT_TIMEOUT_SECONDS = 30.0
_POLL_SECONDS = 0.002


class _LocalQueue:
    """Waiters of one document in this process: an asyncio.Lock (FIFO, no polling) and how
    many coroutines hold or wait for it, so the entry can go when nobody does."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


_LOCAL: dict[tuple[int, str], _LocalQueue] = {}


@asynccontextmanager
async def document_lock(
    stores: Stores, collection: str, doc_id: ObjectId | str
) -> AsyncIterator[None]:
    """Hold the write lock of one document (a no-op when writes need no serializing).

    Waiters in one process queue on an asyncio.Lock, and only its holder contends for the
    Redis lock that serializes processes (API and worker). So 200 concurrent writers of one
    document cost one Redis poller, not 200 hammering Redis and the event loop."""
    if not stores.settings.serialize_document_writes:
        yield
        return
    name = stores.keys("lock", collection, doc_id)
    slot = (id(asyncio.get_running_loop()), name)
    queue = _LOCAL.get(slot)
    if queue is None:
        queue = _LOCAL[slot] = _LocalQueue()
    queue.users += 1
    try:
        async with asyncio.timeout(_WAIT_TIMEOUT_SECONDS):
            await queue.lock.acquire()
        try:
            lock = stores.redis.lock(
                name,
                timeout=_LOCK_TIMEOUT_SECONDS,
                blocking_timeout=_WAIT_TIMEOUT_SECONDS,
                sleep=_POLL_SECONDS,
            )
            async with lock:
                yield
        finally:
            queue.lock.release()
    finally:
        queue.users -= 1
        if queue.users == 0 and _LOCAL.get(slot) is queue:
            del _LOCAL[slot]


async def update_document(
    stores: Stores, collection: str, doc_id: ObjectId, update: Mapping[str, Any]
) -> bool:
    """`update_one({"_id": doc_id}, update)` under the document's lock. Returns whether a
    document matched."""
    async with document_lock(stores, collection, doc_id):
        result = await stores.db[collection].update_one({"_id": doc_id}, dict(update))
    return result.matched_count > 0


async def find_and_update_document(
    stores: Stores, collection: str, doc_id: ObjectId, update: Mapping[str, Any]
) -> dict | None:
    """Like `update_document` but returns the document after the update (None if missing)."""
    from pymongo import ReturnDocument

    async with document_lock(stores, collection, doc_id):
        return await stores.db[collection].find_one_and_update(
            {"_id": doc_id}, dict(update), return_document=ReturnDocument.AFTER
        )
