"""Keeps the viewer's activity current: recorded in Redis on the request path, copied to
`users.last_active_at` by the worker's `flush_activity` cron (datastore/activity.py says why the
request never writes MongoDB)."""

from __future__ import annotations

import time
from typing import Any

from bson import ObjectId

from datastore.activity import flush_activity as _flush
from datastore.activity import record_activity
from datastore.stores import Stores
from worker.registry import cron

# user id -> when this process last recorded them; bounded by clearing (a cleared entry costs
# one more Redis round trip, nothing else).
_RECORDED: dict[ObjectId, float] = {}
_RECORDED_MAX = 100_000


def _due(stores: Stores, user_id: ObjectId, now: float) -> bool:
    recorded = _RECORDED.get(user_id)
    return recorded is None or now - recorded >= max(1, stores.settings.activity_touch_seconds)


def note_recorded(user_id: ObjectId) -> None:
    """Someone else recorded this user's activity just now (a feed page does, in its own
    round trip), so `touch_activity` need not for a period."""
    if len(_RECORDED) >= _RECORDED_MAX:
        _RECORDED.clear()
    _RECORDED[user_id] = time.monotonic()


async def touch_activity(stores: Stores, user_id: ObjectId) -> bool:
    """Record activity in Redis at most once per `activity_touch_seconds` per user and process
    (one pipelined round trip; none within the period). Returns whether it recorded."""
    now = time.monotonic()
    if not _due(stores, user_id, now):
        return False
    note_recorded(user_id)
    await record_activity(stores, user_id)
    return True


@cron("* * * * *")
async def flush_activity(ctx: dict[str, Any]) -> int:
    """Copy recorded activity to `users.last_active_at` (at most one write per user a run)."""
    return await _flush(ctx["stores"])
