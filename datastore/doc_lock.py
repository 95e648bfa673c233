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
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from bson import ObjectId
from pymongo.errors import OperationFailure
from redis.exceptions import LockError, LockNotOwnedError

from datastore.doc_cache import DocCache
from datastore.stores import Stores

log = logging.getLogger(__name__)
T = TypeVar("T")

# A lock outlives a crashed holder by at most this long. An update takes milliseconds, but a
# loaded FerretDB can stall a write for seconds (SQLITE_BUSY retries), so leave slack.
_LOCK_TIMEOUT_SECONDS = 20.0
_WAIT_TIMEOUT_SECONDS = 60.0
_POLL_SECONDS = 0.002
_BUSY_ATTEMPTS = 8


def _is_busy(exc: OperationFailure) -> bool:
    return "SQLITE_BUSY" in str(exc) or "database is locked" in str(exc)


async def retry_busy(op: Callable[[], Awaitable[T]]) -> T:
    """Run a MongoDB write, retrying when FerretDB reports SQLite's "database is locked".

    Why: FerretDB 1.x surfaces SQLITE_BUSY from concurrent writers as an InternalError instead
    of waiting; the write did not happen, so running it again is safe. Other errors (and a real
    MongoDB, which never says this) pass straight through."""
    for attempt in range(_BUSY_ATTEMPTS):
        try:
            return await op()
        except OperationFailure as exc:
            if not _is_busy(exc) or attempt == _BUSY_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.005 * 2**attempt)
    raise AssertionError("unreachable")


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
    stores: Stores, collection: str, doc_id: ObjectId | str, *, keep_cached: bool = False
) -> AsyncIterator[None]:
    """Hold the write lock of one document for a write; when the write is done, drop the
    document's cached copy (datastore/doc_cache.py) so readers see the change. `keep_cached`:
    the write changes only fields no reader takes from the cache (`last_active_at`), so the
    copy stays and the next feed page still finds its viewer there."""
    try:
        async with _serialized(stores, collection, doc_id):
            yield
    finally:
        if not keep_cached:
            await DocCache(stores, collection).invalidate([doc_id])


@asynccontextmanager
async def _serialized(
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


async def update_document(
    stores: Stores,
    collection: str,
    doc_id: ObjectId,
    update: Mapping[str, Any],
    *,
    keep_cached: bool = False,
) -> bool:
    """`update_one({"_id": doc_id}, update)` under the document's lock. Returns whether a
    document matched. `keep_cached`: see `document_lock`."""
    async with document_lock(stores, collection, doc_id, keep_cached=keep_cached):
        result = await retry_busy(
            lambda: stores.db[collection].update_one({"_id": doc_id}, dict(update))
        )
    return result.matched_count > 0


async def find_and_update_document(
    stores: Stores, collection: str, doc_id: ObjectId, update: Mapping[str, Any]
) -> dict | None:
    """Like `update_document` but returns the document after the update (None if missing)."""
    from pymongo import ReturnDocument

    async with document_lock(stores, collection, doc_id):
        return await retry_busy(
            lambda: stores.db[collection].find_one_and_update(
                {"_id": doc_id}, dict(update), return_document=ReturnDocument.AFTER
            )
        )
