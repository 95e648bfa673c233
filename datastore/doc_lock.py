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

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from bson import ObjectId

from datastore.stores import Stores

# A lock outlives a crashed holder by at most this long; an update takes milliseconds.
_LOCK_TIMEOUT_SECONDS = 5.0
_BLOCKING_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.002


@asynccontextmanager
async def document_lock(stores: Stores, collection: str, doc_id: ObjectId) -> AsyncIterator[None]:
    """Hold the write lock of one document (a no-op when writes need no serializing)."""
    if not stores.settings.serialize_document_writes:
        yield
        return
    lock = stores.redis.lock(
        stores.keys("lock", collection, doc_id),
        timeout=_LOCK_TIMEOUT_SECONDS,
        blocking_timeout=_BLOCKING_TIMEOUT_SECONDS,
        sleep=_POLL_SECONDS,
    )
    async with lock:
        yield


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
