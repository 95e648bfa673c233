"""The `hashtags` collection: one document per hashtag (`_id` is its name) with the count of
READY posts using it. Search pages come from Redis (search/); this is the exact count."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from datastore.doc_lock import document_lock
from datastore.query_shapes import query
from datastore.stores import Stores

COLLECTION = "hashtags"


class HashtagDoc(TypedDict, total=False):
    _id: str
    post_count: int
    last_used_at: datetime


query(COLLECTION, "by_id", equality=["_id"])


async def add_to_count(stores: Stores, names: list[str], delta: int) -> None:
    """Move each hashtag's post_count by `delta`; a first use (delta > 0) creates it."""
    now = datetime.now(UTC)
    for name in names:
        update: dict = {"$inc": {"post_count": delta}}
        if delta > 0:
            update["$set"] = {"last_used_at": now}
        async with document_lock(stores, COLLECTION, name):  # type: ignore[arg-type]
            await stores.backend.write(
                lambda name=name, update=update: stores.db.hashtags.update_one(
                    {"_id": name}, update, upsert=delta > 0
                )
            )
