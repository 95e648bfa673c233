"""Delete uploads nobody attached to a post before they expired, and leftovers of crashes.

Runs as a worker cron job every 5 minutes (worker/posts_jobs.py). A sweep takes `now` so tests
move the clock instead of waiting.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from saq import Queue

from datastore.stores import Stores

log = logging.getLogger(__name__)

# A PUT that started just before the URL expired may still be in flight.
GRACE = timedelta(minutes=2)
# An ATTACHED upload whose post vanished (a crash between writes) is left this long first.
ATTACHED_ORPHAN_AGE = timedelta(hours=1)
# A post still PROCESSING after this long lost its job (Redis flushed, enqueue failed): retry.
STUCK_PROCESSING_AGE = timedelta(minutes=15)


async def _restart_stuck_posts(stores: Stores, queue: Queue, now: datetime) -> int:
    from services.process_post_media import enqueue_processing

    count = 0
    async for post in stores.db.posts.find(
        {"status": "PROCESSING", "created_at": {"$lt": now - STUCK_PROCESSING_AGE}},
        projection={"_id": 1},
    ).limit(500):
        # Keyed by post: a job that is in fact still queued or running is left alone.
        await enqueue_processing(queue, post["_id"])
        count += 1
    return count


async def sweep_uploads(
    stores: Stores, now: datetime | None = None, queue: Queue | None = None
) -> dict[str, int]:
    now = now or datetime.now(UTC)
    db = stores.db
    restarted = await _restart_stuck_posts(stores, queue, now) if queue is not None else 0
    expired = [
        doc
        async for doc in db.uploads.find(
            {"status": "PENDING", "expires_at": {"$lt": now - GRACE}},
            projection={"key": 1},
        )
    ]
    orphaned = []
    async for doc in db.uploads.find(
        {"status": "ATTACHED", "attached_at": {"$lt": now - ATTACHED_ORPHAN_AGE}},
        projection={"key": 1, "post_id": 1},
    ):
        if await db.posts.find_one({"_id": doc["post_id"]}, projection={"_id": 1}) is None:
            orphaned.append(doc)
    gone = expired + orphaned
    # Objects first: a record without its object is harmless, the reverse is an orphan.
    await stores.objects.delete_many([d["key"] for d in gone])
    if expired:
        await db.uploads.delete_many(
            {"_id": {"$in": [d["_id"] for d in expired]}, "status": "PENDING"}
        )
    if orphaned:
        await db.uploads.delete_many({"_id": {"$in": [d["_id"] for d in orphaned]}})
    # Objects under uploads/ with no record at all (their record was swept or never written).
    known = {d["key"] async for d in db.uploads.find({}, projection={"key": 1})}
    strays = [k for k in await stores.objects.list_keys("uploads/") if k not in known]
    await stores.objects.delete_many(strays)
    counts = {
        "expired": len(expired),
        "orphaned": len(orphaned),
        "strays": len(strays),
        "restarted": restarted,
    }
    if any(counts.values()):
        log.info("swept uploads", extra=counts)
    return counts
