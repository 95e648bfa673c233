"""Worker jobs of maintenance (named in worker/jobs.py): counters converge on their edges."""

from __future__ import annotations

from typing import Any

from maintenance import reconcile
from worker.registry import cron


@cron("* * * * *")
async def reconcile_counters(ctx: dict[str, Any]) -> dict[str, int]:
    """Every minute: recount the documents writes marked dirty (datastore/dirty.py)."""
    return await reconcile.reconcile_dirty(ctx["stores"])


@cron("*/10 * * * *")
async def sweep_counters(ctx: dict[str, Any]) -> dict[str, int]:
    """Every ten minutes: mark what edges created since the last sweep point at (writes made
    while Redis was down carry no mark), then recount a slice of everything (the slow pass).
    Both scan collections on FerretDB, hence the longer period."""
    stores = ctx["stores"]
    marked = await reconcile.sweep_recent(stores)
    fixed = await reconcile.slow_pass(stores)
    return {"marked": marked, **{f"slow_{k}": v for k, v in fixed.items()}}
