"""A job that failed for good is recorded in MongoDB (`failed_jobs`) and logged, so it is visible
and can be replayed, not lost when saq's own record expires."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING, IndexModel
from saq.job import Status

from datastore.mongo import register_indexes

log = logging.getLogger("worker.failures")

register_indexes("failed_jobs", [IndexModel([("failed_at", DESCENDING)])])


async def record_if_failed(ctx: dict[str, Any]) -> None:
    job = ctx.get("job")
    if job is None or job.status != Status.FAILED:
        return
    stores = ctx["stores"]
    doc = {
        "job_key": job.key,
        "function": job.function,
        "kwargs": job.kwargs,
        "attempts": job.attempts,
        "error": (job.error or "")[-4000:],
        "failed_at": datetime.now(UTC),
    }
    await stores.db.failed_jobs.insert_one(doc)
    log.error(
        "job failed for good",
        extra={"job": job.function, "job_key": job.key, "attempts": job.attempts},
    )
