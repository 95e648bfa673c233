"""The `failed_jobs` repository: jobs that failed for good (worker/failures.py records them), kept
for inspection and replay after saq's own record expires."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from pymongo import DESCENDING, IndexModel

from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

# Newest failures first, for whoever inspects them (no request path reads this collection).
register_indexes("failed_jobs", [IndexModel([("failed_at", DESCENDING)])])
# What an operator looks at after an incident: the newest failures first.
query("failed_jobs", "newest_failures", sort=[("failed_at", -1)])


class FailedJobDoc(TypedDict):
    job_key: str
    function: str
    kwargs: dict[str, Any]
    attempts: int
    error: str  # the last 4,000 characters of the traceback
    failed_at: datetime


async def record_failed_job(stores: Stores, doc: FailedJobDoc) -> None:
    await stores.backend.write(lambda: stores.db.failed_jobs.insert_one(doc))
