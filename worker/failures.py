"""A job that failed for good is recorded in MongoDB (`failed_jobs`) and logged, so it is visible
and can be replayed, not lost when saq's own record expires."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from saq.job import Status

from datastore.failed_jobs import FailedJobDoc, record_failed_job

log = logging.getLogger("worker.failures")


async def record_if_failed(ctx: dict[str, Any]) -> None:
    job = ctx.get("job")
    if job is None or job.status != Status.FAILED:
        return
    stores = ctx["stores"]
    doc: FailedJobDoc = {
        "job_key": job.key,
        "function": job.function,
        "kwargs": job.kwargs,
        "attempts": job.attempts,
        "error": (job.error or "")[-4000:],
        "failed_at": datetime.now(UTC),
    }
    await record_failed_job(stores, doc)
    log.error(
        "job failed for good",
        extra={"job": job.function, "job_key": job.key, "attempts": job.attempts},
    )
