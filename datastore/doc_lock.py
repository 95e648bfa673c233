"""Serialized writes to one document, for FerretDB 1.x (datastore/backend/ferretdb.py).

Why: FerretDB 1.x (our local MongoDB) applies `update_one` as a read-modify-write of the whole
document without isolation. 200 concurrent `$inc`s on one document end up far below 200, and a
concurrent `$set` of one field can undo an `$inc` of another. So its backend holds a short Redis
lock per document around every write of a shared document (redis-py's `Lock`: SET NX PX with a
token, released by a Lua compare-and-delete). A real MongoDB needs none of this.

`document_lock`, `update_document` and `find_and_update_document` are the entry points older
callers use; they go through `stores.backend`, so on MongoDB they take no lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from redis.exceptions import LockError, LockNotOwnedError

if TYPE_CHECKING:
    from datastore.stores import Stores

log = logging.getLogger(__name__)

# A lock outlives a crashed holder by at most this long. An update takes milliseconds, but a
# loaded FerretDB can stall a write for seconds (SQLITE_BUSY retries), so leave slack.
_LOCK_TIMEOUT_SECONDS = 20.0
_WAIT_TIMEOUT_SECONDS = 60.0
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
async def hold_document(
    stores: Stores, collection: str, doc_id: ObjectId | str
) -> AsyncIterator[None]:
    """Hold the write lock of one document.

    Waiters in one process queue on an asyncio.Lock, and only its holder contends for the
    Redis lock that serializes processes (API and worker). So 200 concurrent writers of one
    document cost one Redis poller, not 200 hammering Redis and the event loop."""
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
            if not await lock.acquire():
                raise LockError(f"document lock {name} not acquired in {_WAIT_TIMEOUT_SECONDS} s")
            try:
                yield
            finally:
                try:
                    await lock.release()
                except LockNotOwnedError:
                    # Held past its timeout (a stalled write): the write is done; only
                    # exclusivity for that long was lost, so report it and carry on.
                    log.warning("document lock %s expired while held", name)
        finally:
            queue.lock.release()
    finally:
        queue.users -= 1
        if queue.users == 0 and _LOCAL.get(slot) is queue:
            del _LOCAL[slot]


def document_lock(
    stores: Stores, collection: str, doc_id: ObjectId | str, *, keep_cached: bool = False
) -> AbstractAsyncContextManager[None]:
    """Hold one document for a read-modify-write; when done, drop its cached copy
    (datastore/doc_cache.py) so readers see the change. `keep_cached`: the write changes only
    fields no reader takes from the cache (`last_active_at`). A lock on FerretDB only."""
    return stores.backend.serialized(collection, doc_id, keep_cached=keep_cached)


async def update_document(
    stores: Stores,
    collection: str,
    doc_id: ObjectId,
    update: Mapping[str, Any],
    *,
    keep_cached: bool = False,
) -> bool:
    """`update_one({"_id": doc_id}, update)` of a document others write too. Returns whether a
    document matched. `keep_cached`: see `document_lock`."""
    return await stores.backend.update_document(collection, doc_id, update, keep_cached=keep_cached)


async def find_and_update_document(
    stores: Stores, collection: str, doc_id: ObjectId, update: Mapping[str, Any]
) -> dict | None:
    """Like `update_document` but returns the document after the update (None if missing)."""
    return await stores.backend.find_one_and_update(collection, doc_id, update)
