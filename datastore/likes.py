"""The `likes` collection: one document per (post, user), unique, so a like is idempotent under
concurrency and `like_count` moves only when an insert or delete really happened."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypedDict

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from datastore.dirty import mark_dirty
from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

COLLECTION = "likes"


class LikeDoc(TypedDict):
    _id: ObjectId
    post_id: ObjectId
    user_id: ObjectId
    created_at: datetime


register_indexes(
    COLLECTION,
    [
        IndexModel([("post_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
        IndexModel([("user_id", ASCENDING), ("post_id", ASCENDING)]),
        IndexModel([("post_id", ASCENDING), ("_id", DESCENDING)]),
    ],
)
_BY_POST_AND_USER = query(COLLECTION, "like of a user", equality=("post_id", "user_id"))
_LIKED_AMONG = query(COLLECTION, "posts a user liked", equality=("user_id", "post_id"))
_LIKERS = query(COLLECTION, "likers page", equality=("post_id",), sort=(("_id", -1),), range="_id")
_OF_POST = query(COLLECTION, "likes of a post", equality=("post_id",))


async def insert_like(
    stores: Stores, post_id: ObjectId, user_id: ObjectId, created_at: datetime
) -> bool:
    """Returns False when the user already likes the post."""
    await mark_dirty(stores, {"posts": [post_id]})
    try:
        await stores.backend.insert_one(
            COLLECTION, {"post_id": post_id, "user_id": user_id, "created_at": created_at}
        )
    except DuplicateKeyError:
        return False
    return True


async def delete_like(stores: Stores, post_id: ObjectId, user_id: ObjectId) -> bool:
    """Returns whether a like was deleted."""
    await mark_dirty(stores, {"posts": [post_id]})
    return await stores.backend.delete_one(COLLECTION, {"post_id": post_id, "user_id": user_id})


async def likers_batch(
    stores: Stores, post_id: ObjectId, *, before: ObjectId | None, limit: int
) -> list[LikeDoc]:
    """Likes of a post, newest first, older than `before`."""
    q: dict = {"post_id": post_id}
    if before is not None:
        q["_id"] = {"$lt": before}
    cursor = stores.db[COLLECTION].find(q).sort("_id", DESCENDING).limit(limit)
    return [d async for d in cursor]


async def liked_post_ids(
    stores: Stores, user_id: ObjectId, post_ids: Iterable[ObjectId]
) -> set[ObjectId]:
    """Which of `post_ids` the user likes: one query for a whole page of posts."""
    ids = list(post_ids)
    if not ids:
        return set()
    cursor = stores.db[COLLECTION].find(
        {"user_id": user_id, "post_id": {"$in": ids}}, projection={"post_id": 1}
    )
    return {d["post_id"] async for d in cursor}


async def count_for_post(stores: Stores, post_id: ObjectId) -> int:
    return await stores.db[COLLECTION].count_documents({"post_id": post_id})


async def delete_for_post(stores: Stores, post_id: ObjectId) -> int:
    return await stores.backend.delete_many(COLLECTION, {"post_id": post_id})
