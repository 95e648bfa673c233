"""Counters that converge on their edges: the reconciliation of dirty documents, the sweep that
finds writes made while Redis was down, and the slow pass over everything.

A document is repaired like this (`reconcile_one`):
1. leave it alone while a write may still be working on it: its dirty mark must be older than
   the grace period (a write marks before its edge and moves the counter right after);
2. settle what the backend holds back (FerretDB's pending deltas are applied under the lock);
3. read the stored counters, recount the edges;
4. equal: drop the mark, unless a write marked the document again meanwhile (compare-and-
   delete on the mark's score);
5. different: `$set` the recount only while the stored counters are still those read in 3
   (a compare-and-set: a concurrent `$inc` makes it miss, and the document is tried again
   later), and mark the document again, so the next pass after the grace period checks that
   the repair held.
The last step is what makes a race harmless: a like whose edge the recount saw but whose
`$inc` lands after the `$set` leaves the count one too high for one grace period; the re-check
finds it and sets it right, and the mark goes only when a recount agrees with the counter.
On MongoDB the compare-and-set is one atomic `update_one`; on FerretDB 1.24 (no isolation)
the backend runs it under the document's lock, as it does every `$inc`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from datastore import dirty
from datastore.dirty import KINDS, DirtyKind
from datastore.stores import Stores
from maintenance.counters import doc_id, stored, truth

log = logging.getLogger(__name__)

GRACE_SECONDS = 10.0
BATCH = 500
# The sweep of recent edges looks back this far past its previous run (clock skew, slow writes).
SWEEP_OVERLAP = timedelta(minutes=2)
SLOW_PASS_BATCH = 50


async def reconcile_one(stores: Stores, kind: DirtyKind, member: str, score: int | None) -> bool:
    """Repair one marked document (see the module docstring). Returns whether a counter was
    wrong and has been `$set` to its recount."""
    _id = doc_id(kind, member)
    if _id is None:
        await dirty.unmark_if_unchanged(stores, kind, member, score or 0)
        return False
    await stores.backend.settle_counters(kind, _id)
    before = await stored(stores, kind, _id)
    if before is None and kind == "hashtags" and any((await truth(stores, kind, _id)).values()):
        # A crash before a first use's upsert: create the tag at 0 (as that upsert would have;
        # `$setOnInsert`, so a concurrent first use's `$inc` is kept), then repair it below.
        async with stores.backend.serialized(kind, _id):
            await stores.backend.write(
                lambda: stores.db.hashtags.update_one(
                    {"_id": _id}, {"$setOnInsert": {"post_count": 0}}, upsert=True
                )
            )
        before = await stored(stores, kind, _id)
    if before is None:  # deleted: nothing to count
        if score is not None:
            await dirty.unmark_if_unchanged(stores, kind, member, score)
        return False
    counted = await truth(stores, kind, _id)
    if counted == before:
        if score is not None:
            await dirty.unmark_if_unchanged(stores, kind, member, score)
        return False
    if score is not None and await dirty.mark_score(stores, kind, member) != score:
        return False  # a write started meanwhile: its own mark brings the document back
    fixes = {f: n for f, n in counted.items() if before[f] != n}
    matched = await stores.backend.update_document(kind, _id, {"$set": fixes}, where=before)
    await dirty.remark(stores, kind, member)
    if matched:
        log.warning("reconciled %s %s: %s -> %s", kind, member, before, counted)
    return matched


async def reconcile_dirty(
    stores: Stores, *, grace_seconds: float = GRACE_SECONDS, limit: int = BATCH
) -> dict[str, int]:
    """Recount the documents marked dirty at least `grace_seconds` ago (up to `limit` per
    kind) and fix those whose counters differ. Returns how many were fixed, per kind. What
    the drills call after killing the database mid-burst (with `grace_seconds=0` once the
    burst is over)."""
    cutoff = dirty.now_ms() - int(grace_seconds * 1000)
    fixed: dict[str, int] = {}
    for kind in KINDS:
        n = 0
        for member, score in await dirty.due(stores, kind, cutoff, limit):
            n += await reconcile_one(stores, kind, member, score)
        fixed[kind] = n
    return fixed


# --- writes the marks missed (Redis was down) ------------------------------------------------


_RECENT_EDGES: tuple[tuple[str, tuple[tuple[str, DirtyKind], ...]], ...] = (
    ("likes", (("post_id", "posts"),)),
    ("comments", (("post_id", "posts"),)),
    ("shares", (("post_id", "posts"),)),
    ("follows", (("follower_id", "users"), ("followee_id", "users"))),
)


def _sweep_key(stores: Stores) -> str:
    return stores.keys("reconcile", "swept_at")


async def sweep_recent(stores: Stores, *, since: datetime | None = None) -> int:
    """Mark dirty every document an edge created since the previous sweep points at (and the
    authors, hashtags and locations of posts published since): the writes that committed to
    MongoDB while Redis was down, so without their marks. Returns how many marks."""
    started = datetime.now(UTC)
    if since is None:
        raw = await stores.redis.get(_sweep_key(stores))
        since = (
            datetime.fromtimestamp(float(raw), UTC) - SWEEP_OVERLAP
            if raw
            else started - timedelta(hours=1)
        )
    marks: dict[DirtyKind, set[Any]] = {k: set() for k in KINDS}
    for collection, targets in _RECENT_EDGES:
        fields = {f: 1 for f, _ in targets}
        async for doc in stores.db[collection].find({"created_at": {"$gte": since}}, fields):
            for field, kind in targets:
                marks[kind].add(doc.get(field))
    async for post in stores.db.posts.find(
        {"published_at": {"$gte": since}}, {"author_id": 1, "hashtags": 1, "location": 1}
    ):
        marks["posts"].add(post["_id"])
        marks["users"].add(post.get("author_id"))
        marks["hashtags"].update(post.get("hashtags") or [])
        marks["locations"].add((post.get("location") or {}).get("id"))
    await dirty.mark_dirty(stores, {k: v for k, v in marks.items() if v})
    await stores.redis.set(_sweep_key(stores), repr(started.timestamp()))
    return sum(len(v - {None}) for v in marks.values())


# --- the slow pass: everything, a little at a time --------------------------------------------


def _cursor_key(stores: Stores, kind: DirtyKind) -> str:
    return stores.keys("reconcile", "cursor", kind)


async def slow_pass(stores: Stores, *, batch: int = SLOW_PASS_BATCH) -> dict[str, int]:
    """Recount the next `batch` documents of each kind in `_id` order (wrapping around), so
    every counter is checked now and then even if no mark ever named it. Returns how many
    were fixed, per kind."""
    fixed: dict[str, int] = {}
    for kind in KINDS:
        raw = await stores.redis.get(_cursor_key(stores, kind))
        after = doc_id(kind, raw) if raw else None
        query: dict = {} if after is None else {"_id": {"$gt": after}}
        ids = [
            d["_id"]
            async for d in stores.db[kind].find(query, {"_id": 1}).sort("_id", 1).limit(batch)
        ]
        n = 0
        for _id in ids:
            n += await reconcile_one(stores, kind, str(_id), None)
        fixed[kind] = n
        if len(ids) < batch:
            await stores.redis.delete(_cursor_key(stores, kind))
        else:
            await stores.redis.set(_cursor_key(stores, kind), str(ids[-1]))
    return fixed
