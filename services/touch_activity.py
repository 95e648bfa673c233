"""Keeps `users.last_active_at` roughly current (the feed skips fan-out to inactive users)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bson import ObjectId

from datastore.doc_lock import update_document
from datastore.stores import Stores

# user id -> when this process last asked Redis; bounded by clearing (a cleared entry costs
# one more SET NX, nothing else).
_ASKED: dict[ObjectId, float] = {}
_ASKED_MAX = 100_000


async def touch_activity(stores: Stores, user_id: ObjectId) -> bool:
    """Record activity at most once per `activity_touch_seconds` per user: a Redis SET NX EX
    decides across processes, and this process skips even that round trip for a user it asked
    about within the period. Returns whether MongoDB was written."""
    ttl = max(1, stores.settings.activity_touch_seconds)
    now = time.monotonic()
    asked = _ASKED.get(user_id)
    if asked is not None and now - asked < ttl:
        return False
    if len(_ASKED) >= _ASKED_MAX:
        _ASKED.clear()
    _ASKED[user_id] = now
    key = stores.keys("active", user_id)
    if not await stores.redis.set(key, "1", nx=True, ex=ttl):
        return False
    return await update_document(
        stores, "users", user_id, {"$set": {"last_active_at": datetime.now(UTC)}}
    )
