"""Keeps `users.last_active_at` roughly current (the feed skips fan-out to inactive users)."""

from __future__ import annotations

from datetime import UTC, datetime

from bson import ObjectId

from datastore.doc_lock import update_document
from datastore.stores import Stores


async def touch_activity(stores: Stores, user_id: ObjectId) -> bool:
    """Record activity at most once per `activity_touch_seconds` per user: a Redis SET NX EX
    decides, so nearly every request costs one Redis round trip and no MongoDB write.
    Returns whether MongoDB was written."""
    key = stores.keys("active", user_id)
    ttl = max(1, stores.settings.activity_touch_seconds)
    if not await stores.redis.set(key, "1", nx=True, ex=ttl):
        return False
    return await update_document(
        stores, "users", user_id, {"$set": {"last_active_at": datetime.now(UTC)}}
    )
