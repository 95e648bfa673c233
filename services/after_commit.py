"""Side effects of a write that has committed to MongoDB, when Redis may be down.

A like, a comment or a follow is in MongoDB once its edge is written; what follows (timelines,
affinity, search scores, notifications' queues, live pushes) is derived. During a Redis outage
each event handler still runs, a failed one is logged instead of failing the mutation, and the
derived state it skipped is left to repair: the follow zsets and timelines are checked against
MongoDB by their readers, and counters are recounted by reconciliation."""

from __future__ import annotations

import logging
from typing import Any

from core.events import Deps, emit_tolerating
from datastore.outages import REDIS_OUTAGE

log = logging.getLogger(__name__)


async def emit_committed(event: str, deps: Deps, **payload: Any) -> None:
    for exc in await emit_tolerating(event, deps, REDIS_OUTAGE, **payload):
        # repair: this handler's Redis work is skipped; its structure rebuilds from MongoDB.
        log.warning("%s handler skipped (Redis unavailable): %s", event, exc)
