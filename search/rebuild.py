"""The way back from MongoDB for the search indexes: build-and-swap rebuilds, and the check that
heals a lost index on the first query that finds nothing.

A rebuild writes every structure under staging keys (`sxb:...` instead of `sx:...`), then one
MULTI deletes the live keys the new build does not have and RENAMEs each staging key over its
live name, so readers see the old index or the new one, never a half-built one. Entries the
event handlers updated while it was building (they write to the live keys, which the swap
replaces) are replayed from the journal (`search.index.queue_journal`) after the swap. One
rebuild at a time: a short lock (SET NX EX), renewed by each bulk write; a second caller waits
for the first instead of building again.

The `sx:built` marker is written with the staging keys, so it appears with the data it vouches
for. After a FLUSHALL it is gone with everything else: `ensure_built` is called by a query
only when its answer is empty, so a healthy index costs no extra round trip.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bson import ObjectId

from datastore import posts
from datastore.accounts import all_users
from datastore.stores import Stores
from search import index

log = logging.getLogger(__name__)

LIVE = "sx"
STAGING = "sxb"
LOCK_SECONDS = 60
# A query that finds the index lost while another process rebuilds it waits this long.
WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.05
# Journal entries this much older than the rebuild's start are replayed too (clock skew
# between processes, and a handler that read MongoDB just before the build's snapshot).
_REPLAY_MARGIN_MS = 5000
# Kept across a swap: bookkeeping of `sync_users`, not derived from the build.
_KEEP = ("users_synced",)


def built_key(stores: Stores) -> str:
    return stores.keys(LIVE, "built")


def lock_key(stores: Stores) -> str:
    return stores.keys("sxlock")


async def is_built(stores: Stores) -> bool:
    return bool(await stores.redis.exists(built_key(stores)))


async def ensure_built(stores: Stores) -> bool:
    """Rebuild the index if its marker is missing (Redis lost it, or it was never built), or
    wait for the rebuild another process runs. Returns whether the caller should ask again
    (False: the index was built all along, so an empty answer is the answer)."""
    if await is_built(stores):
        return False
    log.warning("search index marker missing: rebuilding the search index from MongoDB")
    await rebuild_index(stores)
    return True


async def rebuild_index(stores: Stores, *, batch_size: int = 200_000) -> dict[str, int]:
    """Rebuild every search structure from MongoDB and swap it in; events arriving meanwhile
    are replayed after the swap. When another rebuild holds the lock, waits for it (up to
    WAIT_SECONDS) and returns {"waited": 1}."""
    lock = lock_key(stores)
    token = f"{time.time()}"
    if not await stores.redis.set(lock, token, nx=True, ex=LOCK_SECONDS):
        await _wait_for_other(stores)
        return {"waited": 1}
    try:
        return await _build_and_swap(stores, lock, batch_size)
    finally:
        if await stores.redis.get(lock) == token:
            await stores.redis.delete(lock)


async def _wait_for_other(stores: Stores) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if not await stores.redis.exists(lock_key(stores)):
            return
        await asyncio.sleep(_POLL_SECONDS)
    log.warning("gave up waiting %.0fs for another search index rebuild", WAIT_SECONDS)


async def _build_and_swap(stores: Stores, lock: str, batch_size: int) -> dict[str, int]:
    started = time.time()
    await _delete_matching(stores, stores.keys(STAGING, "*"))  # a crashed build's leftovers
    counts = await index.bulk_index(
        stores,
        all_users(stores, index._USER_PROJECTION),
        posts.all_ready(stores, index._POST_PROJECTION),
        batch_size=batch_size,
        namespace=STAGING,
        lock_key=lock,
        lock_seconds=LOCK_SECONDS,
    )
    swapped = await _swap(stores)
    replayed = await _replay(stores, since_ms=int(started * 1000) - _REPLAY_MARGIN_MS)
    counts |= {"keys": swapped, "replayed": replayed}
    log.info("search index rebuilt in %.1fs: %s", time.time() - started, counts)
    return counts


async def _keys(stores: Stores, pattern: str) -> list[str]:
    return [key async for key in stores.redis.scan_iter(match=pattern, count=2000)]


async def _delete_matching(stores: Stores, pattern: str) -> None:
    found = await _keys(stores, pattern)
    for i in range(0, len(found), 1000):
        await stores.redis.delete(*found[i : i + 1000])


async def _swap(stores: Stores) -> int:
    """Replace the live keys with the staging ones in one MULTI. Returns how many keys."""
    live, staging = stores.keys(LIVE, ""), stores.keys(STAGING, "")
    new = await _keys(stores, staging + "*")
    renames = {key: live + key[len(staging) :] for key in new}
    keep = {live + name for name in _KEEP} | set(renames.values())
    gone = [key for key in await _keys(stores, live + "*") if key not in keep]
    async with stores.redis.pipeline(transaction=True) as pipe:
        for i in range(0, len(gone), 1000):
            pipe.delete(*gone[i : i + 1000])
        for src, dst in renames.items():
            pipe.rename(src, dst)
        await pipe.execute()
    return len(renames)


async def _replay(stores: Stores, *, since_ms: int) -> int:
    """Re-derive from MongoDB every entry the handlers touched since `since_ms`: their writes
    went to the live keys the swap replaced."""
    touched = await stores.redis.zrangebyscore(index.journal_key(stores), since_ms, "+inf")
    for member in touched:
        kind, _, hexid = member.partition(":")
        if not ObjectId.is_valid(hexid):
            continue
        if kind == "u":
            await index.index_user(stores, ObjectId(hexid))
        elif kind == "p":
            await index.index_post(stores, ObjectId(hexid))
    return len(touched)
