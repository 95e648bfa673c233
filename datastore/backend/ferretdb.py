"""FerretDB 1.24 on SQLite: the adaptations its gaps need, and nothing else needs.

- An update is an unisolated read-modify-write of the whole document, so concurrent writers of
  one document lose updates: every write of a shared document holds its lock
  (datastore/doc_lock.py).
- A locked post update costs ~40 ms, so 200 concurrent likes applied one by one would take
  seconds: counters go through pending deltas in Redis, applied by whoever holds the lock.
- Likewise actors joining one notification group are queued in Redis and written in one go.
- Concurrent writers get SQLite's "database is locked" as an error: retried (`retry_busy`).
- Only `_id` equality is pushed down to SQLite (`$in` scans): batches are point reads.

Locks, pending deltas and queued actors live in Redis, which is a cache: while it is down the
writes go straight to MongoDB without them (a plain `$inc`, the group written at once), so a
like still commits. Two writers of one document in that window may lose an update; counters
are left to the reconciliation that recounts them from their edges.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from datastore.backend.base import OnJoined, stored_now
from datastore.backend.reconnect import insert_retrying, retry_dropped
from datastore.doc_cache import DocCache
from datastore.doc_lock import hold_document
from datastore.outages import REDIS_OUTAGE

if TYPE_CHECKING:
    from datastore.stores import Stores

T = TypeVar("T")

log = logging.getLogger(__name__)

_BUSY_ATTEMPTS = 8
# A pending hash outlives a crashed holder (the next writer of the document applies it).
_PENDING_COUNTERS_TTL_SECONDS = 7 * 24 * 3600
_PENDING_ACTORS_TTL_SECONDS = 24 * 3600
_TOKEN = "_token"
# The last counter flush's result per document, in this process (bounded): (token, document).
_LATEST: OrderedDict[tuple[int, str], tuple[str, dict]] = OrderedDict()
_MEMO_SIZE = 10_000


def _is_busy(exc: OperationFailure) -> bool:
    return "SQLITE_BUSY" in str(exc) or "database is locked" in str(exc)


async def retry_busy(op: Callable[[], Awaitable[T]]) -> T:
    """Run a write, retrying when FerretDB reports SQLite's "database is locked".

    Why: FerretDB 1.x surfaces SQLITE_BUSY from concurrent writers as an InternalError instead
    of waiting; the write did not happen, so running it again is safe."""
    for attempt in range(_BUSY_ATTEMPTS):
        try:
            return await op()
        except OperationFailure as exc:
            if not _is_busy(exc) or attempt == _BUSY_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.005 * 2**attempt)
    raise AssertionError("unreachable")


class FerretBackend:
    name = "ferretdb"

    def __init__(self, stores: Stores) -> None:
        self._stores = stores

    def _coll(self, collection: str) -> Any:
        return self._stores.db[collection]

    @asynccontextmanager
    async def serialized(
        self, collection: str, doc_id: Any, *, keep_cached: bool = False
    ) -> AsyncIterator[None]:
        try:
            async with AsyncExitStack() as held:
                try:
                    await held.enter_async_context(hold_document(self._stores, collection, doc_id))
                except REDIS_OUTAGE as exc:
                    # repair: written without the lock while Redis is down; a concurrent
                    # writer may undo this update (counters: reconciliation recounts them).
                    log.warning("writing %s %s unlocked (Redis down): %s", collection, doc_id, exc)
                yield
        finally:
            if not keep_cached:
                await DocCache(self._stores, collection).invalidate([doc_id])

    async def write(self, op: Callable[[], Awaitable[T]], *, idempotent: bool = False) -> T:
        if idempotent:
            return await retry_dropped(lambda: retry_busy(op))
        return await retry_busy(op)

    async def insert_one(self, collection: str, doc: Mapping[str, Any]) -> Any:
        return await insert_retrying(self._coll(collection), doc, retry_busy)

    async def delete_one(self, collection: str, filter: Mapping[str, Any]) -> bool:
        result = await retry_busy(lambda: self._coll(collection).delete_one(dict(filter)))
        return result.deleted_count > 0

    async def delete_document(
        self, collection: str, doc_id: Any, *, where: Mapping[str, Any] | None = None
    ) -> bool:
        query = {**(where or {}), "_id": doc_id}
        async with self.serialized(collection, doc_id):
            result = await retry_busy(lambda: self._coll(collection).delete_one(query))
        return result.deleted_count > 0

    async def delete_many(self, collection: str, filter: Mapping[str, Any]) -> int:
        result = await retry_busy(lambda: self._coll(collection).delete_many(dict(filter)))
        return result.deleted_count

    async def update_matching(
        self, collection: str, filter: Mapping[str, Any], update: Mapping[str, Any]
    ) -> int:
        result = await retry_busy(
            lambda: self._coll(collection).update_many(dict(filter), dict(update))
        )
        return result.matched_count

    async def update_document(
        self,
        collection: str,
        doc_id: Any,
        update: Mapping[str, Any],
        *,
        where: Mapping[str, Any] | None = None,
        keep_cached: bool = False,
    ) -> bool:
        query = {**(where or {}), "_id": doc_id}
        async with self.serialized(collection, doc_id, keep_cached=keep_cached):
            result = await retry_busy(
                lambda: self._coll(collection).update_one(query, dict(update))
            )
        return result.matched_count > 0

    async def find_one_and_update(
        self, collection: str, doc_id: Any, update: Mapping[str, Any]
    ) -> dict | None:
        async with self.serialized(collection, doc_id):
            return await retry_busy(
                lambda: self._coll(collection).find_one_and_update(
                    {"_id": doc_id}, dict(update), return_document=ReturnDocument.AFTER
                )
            )

    # --- counters: pending deltas ----------------------------------------------------------
    async def add_counters(
        self, collection: str, doc_id: ObjectId, deltas: Mapping[str, int]
    ) -> dict | None:
        """Each writer first adds its delta to a Redis hash (HINCRBY is atomic), then whoever
        holds the document's lock applies everything pending in one `$inc` and subtracts
        exactly what it applied. A waiter that finds nothing pending knows an earlier holder
        already applied its delta. 200 likes become a handful of writes, and a count still
        moves only by deltas whose edge insert/delete really happened."""
        stores = self._stores
        coll = self._coll(collection)
        pending = stores.keys("pending", collection, doc_id)
        try:
            async with stores.redis.pipeline(transaction=True) as pipe:
                for field, delta in deltas.items():
                    pipe.hincrby(pending, field, delta)
                pipe.expire(pending, _PENDING_COUNTERS_TTL_SECONDS)
                await pipe.execute()
        except REDIS_OUTAGE as exc:
            # repair: the delta goes straight to MongoDB, unlocked (see the module docstring).
            log.warning("counter %s %s applied unlocked (Redis down): %s", collection, doc_id, exc)
            return await retry_busy(
                lambda: coll.find_one_and_update(
                    {"_id": doc_id}, {"$inc": dict(deltas)}, return_document=ReturnDocument.AFTER
                )
            )
        inflight = stores.keys("pending", collection, doc_id, "inflight")
        latest = stores.keys("pending", collection, doc_id, "latest")
        memo_key = (id(asyncio.get_running_loop()), latest)
        async with self.serialized(collection, doc_id):
            async with stores.redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(inflight)
                pipe.hgetall(pending)
                pipe.get(latest)
                record, queued, latest_token = await pipe.execute()
            if record:
                await self._settle_interrupted_flush(coll, doc_id, pending, inflight, record)
                queued = await stores.redis.hgetall(pending)
            found = {k: int(v) for k, v in queued.items() if int(v)}
            if not found:
                # An earlier holder applied our delta. If that was the latest flush and it ran
                # here, its result is at hand: 200 waiters need not read the document 200 times.
                memo = _LATEST.get(memo_key)
                if memo is not None and latest_token is not None and memo[0] == latest_token:
                    return memo[1]
                return await coll.find_one({"_id": doc_id})
            # Recorded before the write, with a token the write stamps on the document: if this
            # process dies between the $inc and the subtraction, the next holder can tell
            # whether the $inc landed, so a delta is applied exactly once even then.
            token = uuid.uuid4().hex
            await stores.redis.hset(inflight, mapping={**found, _TOKEN: token})
            await stores.redis.expire(inflight, _PENDING_COUNTERS_TTL_SECONDS)
            doc = await retry_busy(
                lambda: coll.find_one_and_update(
                    {"_id": doc_id},
                    {"$inc": found, "$set": {"counter_flush": token}},
                    return_document=ReturnDocument.AFTER,
                )
            )
            await self._subtract(pending, inflight, found, latest=(latest, token))
            if doc is not None:
                _LATEST[memo_key] = (token, doc)
                _LATEST.move_to_end(memo_key)
                while len(_LATEST) > _MEMO_SIZE:
                    _LATEST.popitem(last=False)
            return doc

    async def settle_counters(self, collection: str, doc_id: ObjectId) -> None:
        # `add_counters` with no delta of its own: under the lock it settles an interrupted
        # flush and applies what is pending (a crashed writer's HINCRBY, say).
        await self.add_counters(collection, doc_id, {})

    async def _subtract(
        self,
        pending: str,
        inflight: str,
        applied: dict[str, int],
        latest: tuple[str, str] | None = None,
    ) -> None:
        """Take `applied` off the pending deltas (not DEL: deltas added meanwhile stay for the
        next holder), forget the in-flight record and name the latest flush, in one MULTI."""
        async with self._stores.redis.pipeline(transaction=True) as pipe:
            for field, value in applied.items():
                pipe.hincrby(pending, field, -value)
            pipe.delete(inflight)
            if latest is not None:
                pipe.set(latest[0], latest[1], ex=_PENDING_COUNTERS_TTL_SECONDS)
            await pipe.execute()

    async def _settle_interrupted_flush(
        self, coll: Any, doc_id: ObjectId, pending: str, inflight: str, record: dict[str, str]
    ) -> None:
        record = dict(record)
        token = record.pop(_TOKEN, None)
        doc = await coll.find_one({"_id": doc_id}, projection={"counter_flush": 1})
        if doc is not None and token is not None and doc.get("counter_flush") == token:
            await self._subtract(pending, inflight, {k: int(v) for k, v in record.items()})
        else:
            await self._stores.redis.delete(inflight)  # the $inc never landed: still pending

    # --- notification groups: queued actors ------------------------------------------------
    async def join_group(
        self,
        collection: str,
        group: Mapping[str, Any],
        actor_id: ObjectId,
        *,
        max_actors: int,
        on_joined: OnJoined,
    ) -> bool:
        """Writers of one group are serialized by its lock, and actors arriving meanwhile are
        queued in Redis and applied in one write by the next holder: 200 people liking a post
        at once cost a few writes and a few pushes, not 200 of each."""
        stores = self._stores
        gid = group["_id"]
        pending = stores.keys("pending", "notif", gid)
        try:
            async with stores.redis.pipeline(transaction=True) as pipe:
                pipe.rpush(pending, str(actor_id))
                pipe.expire(pending, _PENDING_ACTORS_TTL_SECONDS)
                await pipe.execute()
        except REDIS_OUTAGE as exc:
            # repair: no queue and no lock while Redis is down: this actor is written alone.
            log.warning("notification %s joined unlocked (Redis down): %s", gid, exc)
            new = await self._write_group(collection, group, [actor_id], max_actors)
            if new:
                await on_joined()
            return bool(new)
        async with self.serialized(collection, gid):
            queued = await stores.redis.lrange(pending, 0, -1)
            if not queued:
                return False  # an earlier holder applied (and announced) our actor
            actors = list(dict.fromkeys(ObjectId(q) for q in queued))
            new = await self._write_group(collection, group, actors, max_actors)
            if new:
                # Written: announce now, before the clean-up the recipient does not wait for.
                await on_joined()
            # Drop only what we consumed: actors queued meanwhile wait for the next holder.
            await stores.redis.ltrim(pending, len(queued), -1)
        return bool(new)

    async def _write_group(
        self, collection: str, group: Mapping[str, Any], actors: list[ObjectId], max_actors: int
    ) -> list[ObjectId]:
        """Add `actors` to the group (under its lock); returns those not in it yet.

        Insert first: most groups are new, and the insert's duplicate check uses the `_id`
        index, while a read of a missing `_id` scans the whole collection. An existing group
        answers DuplicateKeyError and is then read."""
        coll = self._coll(collection)
        gid = group["_id"]
        t = stored_now()
        for _ in range(2):
            try:
                body = {
                    **group,
                    "actor_ids": actors[-max_actors:],
                    "actor_count": len(actors),
                    "read": False,
                    "created_at": t,
                    "updated_at": t,
                }
                await retry_busy(lambda body=body: coll.insert_one(body))
                return actors
            except DuplicateKeyError:
                doc = await coll.find_one({"_id": gid}, projection={"actor_ids": 1})
            if doc is None:
                continue  # deleted in between (its post went): create it afresh
            known = set(doc["actor_ids"])
            new = [a for a in actors if a not in known]
            if new:
                # Written whole: FerretDB ignores $push's $slice and $position.
                update = {
                    "$set": {
                        "actor_ids": [*doc["actor_ids"], *new][-max_actors:],
                        "updated_at": t,
                        "read": False,
                    },
                    "$inc": {"actor_count": len(new)},
                }
                await retry_busy(lambda update=update: coll.update_one({"_id": gid}, update))
            return new
        return []

    async def mark_read(self, collection: str, filter: Mapping[str, Any]) -> int:
        # A bulk $set racing an actor joining a group would drop the actor (whole documents are
        # rewritten without isolation): each document is updated under its group's lock.
        coll = self._coll(collection)
        ids = [d["_id"] async for d in coll.find(dict(filter), projection={"_id": 1})]
        changed = 0
        for gid in ids:
            async with self.serialized(collection, gid):
                result = await retry_busy(
                    lambda gid=gid: coll.update_one(
                        {"_id": gid, "read": False}, {"$set": {"read": True}}
                    )
                )
            changed += result.modified_count
        return changed

    async def find_by_ids(self, collection: str, ids: list[Any]) -> list[dict]:
        # `_id` equality walks the table to the row (about 1 ms for an old document, a full
        # scan for a new one), but `$in` decodes the whole collection (tens of seconds).
        coll = self._coll(collection)
        found = await asyncio.gather(*(coll.find_one({"_id": i}) for i in ids))
        return [d for d in found if d is not None]
