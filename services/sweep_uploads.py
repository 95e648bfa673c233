"""Delete uploads nobody attached to a post before they expired, and leftovers of crashes.

Runs as a worker cron job every 5 minutes (worker/posts_jobs.py). A sweep takes `now` so tests
move the clock instead of waiting.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from saq import Queue

from datastore import posts, uploads
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

    stuck = await posts.stuck_processing_ids(stores, now - STUCK_PROCESSING_AGE, limit=500)
    for post_id in stuck:
        # Keyed by post: a job that is in fact still queued or running is left alone.
        await enqueue_processing(queue, post_id)
    return len(stuck)


async def sweep_uploads(
    stores: Stores, now: datetime | None = None, queue: Queue | None = None
) -> dict[str, int]:
    now = now or datetime.now(UTC)
    restarted = await _restart_stuck_posts(stores, queue, now) if queue is not None else 0
    expired = await uploads.expired_pending(stores, now - GRACE)
    orphaned = [
        doc
        for doc in await uploads.attached_before(stores, now - ATTACHED_ORPHAN_AGE)
        if not await posts.post_exists(stores, doc["post_id"])
    ]
    gone = expired + orphaned
    # Objects first: a record without its object is harmless, the reverse is an orphan.
    await stores.objects.delete_many([d["key"] for d in gone])
    await uploads.delete_uploads(stores, [d["_id"] for d in expired], only_pending=True)
    await uploads.delete_uploads(stores, [d["_id"] for d in orphaned])
    # Objects under uploads/ with no record at all (their record was swept or never written).
    known = await uploads.all_keys(stores)
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
