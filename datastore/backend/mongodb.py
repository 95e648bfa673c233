"""A real MongoDB (or any server whose single-document updates are atomic): every write is one
command with MongoDB's own operators. No locks, no pending deltas, no retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from datastore.backend.base import OnJoined, stored_now
from datastore.backend.reconnect import insert_retrying, retry_dropped
from datastore.doc_cache import DocCache

if TYPE_CHECKING:
    from datastore.stores import Stores


T = TypeVar("T")


async def _once(op: Callable[[], Awaitable[T]]) -> T:
    return await op()


class MongoBackend:
    name = "mongodb"

    def __init__(self, stores: Stores) -> None:
        self._stores = stores

    def _coll(self, collection: str) -> Any:
        return self._stores.db[collection]

    async def _uncache(self, collection: str, doc_id: Any) -> None:
        await DocCache(self._stores, collection).invalidate([doc_id])

    async def write(self, op: Callable[[], Awaitable[T]], *, idempotent: bool = False) -> T:
        return await (retry_dropped(op) if idempotent else op())

    async def insert_one(self, collection: str, doc: Mapping[str, Any]) -> Any:
        return await insert_retrying(self._coll(collection), doc, _once)

    async def delete_one(self, collection: str, filter: Mapping[str, Any]) -> bool:
        return (await self._coll(collection).delete_one(dict(filter))).deleted_count > 0

    async def delete_document(
        self, collection: str, doc_id: Any, *, where: Mapping[str, Any] | None = None
    ) -> bool:
        result = await self._coll(collection).delete_one({**(where or {}), "_id": doc_id})
        await self._uncache(collection, doc_id)
        return result.deleted_count > 0

    async def delete_many(self, collection: str, filter: Mapping[str, Any]) -> int:
        return (await self._coll(collection).delete_many(dict(filter))).deleted_count

    async def update_matching(
        self, collection: str, filter: Mapping[str, Any], update: Mapping[str, Any]
    ) -> int:
        return (await self._coll(collection).update_many(dict(filter), dict(update))).matched_count

    async def update_document(
        self,
        collection: str,
        doc_id: Any,
        update: Mapping[str, Any],
        *,
        where: Mapping[str, Any] | None = None,
        keep_cached: bool = False,
    ) -> bool:
        result = await self._coll(collection).update_one(
            {**(where or {}), "_id": doc_id}, dict(update)
        )
        if not keep_cached:
            await self._uncache(collection, doc_id)
        return result.matched_count > 0

    async def find_one_and_update(
        self, collection: str, doc_id: Any, update: Mapping[str, Any]
    ) -> dict | None:
        doc = await self._coll(collection).find_one_and_update(
            {"_id": doc_id}, dict(update), return_document=ReturnDocument.AFTER
        )
        await self._uncache(collection, doc_id)
        return doc

    async def add_counters(
        self, collection: str, doc_id: ObjectId, deltas: Mapping[str, int]
    ) -> dict | None:
        return await self.find_one_and_update(collection, doc_id, {"$inc": dict(deltas)})

    async def settle_counters(self, collection: str, doc_id: ObjectId) -> None:
        return None  # every $inc was applied when it was made

    async def join_group(
        self,
        collection: str,
        group: Mapping[str, Any],
        actor_id: ObjectId,
        *,
        max_actors: int,
        on_joined: OnJoined,
    ) -> bool:
        # The guard (`actor_ids` lacks the actor) and the change are one atomic update; an
        # insert racing another insert of the same group loses on `_id` and joins instead.
        t = stored_now()
        coll = self._coll(collection)
        for _ in range(2):
            result = await coll.update_one(
                {"_id": group["_id"], "actor_ids": {"$ne": actor_id}},
                {
                    "$push": {"actor_ids": {"$each": [actor_id], "$slice": -max_actors}},
                    "$inc": {"actor_count": 1},
                    "$set": {"updated_at": t, "read": False},
                },
            )
            if not result.matched_count:
                try:
                    await coll.insert_one(
                        {
                            **group,
                            "actor_ids": [actor_id],
                            "actor_count": 1,
                            "read": False,
                            "created_at": t,
                            "updated_at": t,
                        }
                    )
                except DuplicateKeyError:
                    continue  # exists: we are already in it, or the next update joins it
            await on_joined()
            return True
        return False

    async def mark_read(self, collection: str, filter: Mapping[str, Any]) -> int:
        result = await self._coll(collection).update_many(dict(filter), {"$set": {"read": True}})
        return result.modified_count

    async def find_by_ids(self, collection: str, ids: list[Any]) -> list[dict]:
        if len(ids) == 1:
            found = await self._coll(collection).find_one({"_id": ids[0]})
            return [found] if found is not None else []
        return [d async for d in self._coll(collection).find({"_id": {"$in": ids}})]

    @asynccontextmanager
    async def serialized(
        self, collection: str, doc_id: Any, *, keep_cached: bool = False
    ) -> AsyncIterator[None]:
        # Nothing to hold: each update the caller makes is atomic on its own.
        try:
            yield
        finally:
            if not keep_cached:
                await self._uncache(collection, doc_id)
