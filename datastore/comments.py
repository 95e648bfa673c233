"""The `comments` collection: top-level comments of a post and one level of replies
(`reply_to_id` names the top-level comment). The ordered ids of a thread live in Redis
(services/comment_threads.py); this module is MongoDB's side."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from datastore.dirty import mark_dirty
from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

COLLECTION = "comments"


class CommentDoc(TypedDict):
    _id: ObjectId
    post_id: ObjectId
    author_id: ObjectId
    text: str
    reply_to_id: ObjectId | None
    reply_count: int
    created_at: datetime


class CommentRef(TypedDict):
    _id: ObjectId
    reply_to_id: ObjectId | None


register_indexes(
    COLLECTION,
    [
        IndexModel([("post_id", ASCENDING), ("reply_to_id", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("reply_to_id", ASCENDING), ("_id", ASCENDING)]),
    ],
)
_THREAD = query(
    COLLECTION, "ids of a thread", equality=("post_id", "reply_to_id"), sort=(("_id", 1),)
)
_REPLIES = query(COLLECTION, "replies to a comment", equality=("reply_to_id",))
_OF_POST = query(COLLECTION, "comments of a post", equality=("post_id",))


def new_comment(
    post_id: ObjectId,
    author_id: ObjectId,
    text: str,
    reply_to_id: ObjectId | None,
    created_at: datetime,
) -> CommentDoc:
    """The document `insert_comment` writes, its `_id` chosen here so the caller holds the whole
    document without reading it back."""
    return {
        "_id": ObjectId(),
        "post_id": post_id,
        "author_id": author_id,
        "text": text,
        "reply_to_id": reply_to_id,
        "reply_count": 0,
        "created_at": created_at,
    }


async def insert_comment(stores: Stores, doc: CommentDoc) -> None:
    await mark_dirty(stores, {"posts": [doc["post_id"]]})
    await stores.backend.insert_one(COLLECTION, doc)


async def delete_comment(stores: Stores, comment_id: ObjectId) -> bool:
    """Returns whether this call deleted it."""
    return await stores.backend.delete_one(COLLECTION, {"_id": comment_id})


async def delete_comments(stores: Stores, ids: list[ObjectId]) -> int:
    if not ids:
        return 0
    return await stores.backend.delete_many(COLLECTION, {"_id": {"$in": ids}})


async def add_to_reply_count(stores: Stores, comment_id: ObjectId, delta: int) -> bool:
    """Returns False when the comment no longer exists."""
    return await stores.backend.update_document(
        COLLECTION, comment_id, {"$inc": {"reply_count": delta}}
    )


async def reply_ids(stores: Stores, root_id: ObjectId) -> list[ObjectId]:
    cursor = stores.db[COLLECTION].find({"reply_to_id": root_id}, projection={"_id": 1})
    return [d["_id"] async for d in cursor]


async def thread_member_ids(
    stores: Stores, post_id: ObjectId, root_id: ObjectId | None
) -> list[ObjectId]:
    """The ids of a post's top-level comments (`root_id` None) or of the replies to one."""
    cursor = stores.db[COLLECTION].find(
        {"post_id": post_id, "reply_to_id": root_id}, projection={"_id": 1}
    )
    return [d["_id"] async for d in cursor]


async def refs_of_post(stores: Stores, post_id: ObjectId) -> list[CommentRef]:
    cursor = stores.db[COLLECTION].find({"post_id": post_id}, projection={"reply_to_id": 1})
    return [{"_id": d["_id"], "reply_to_id": d.get("reply_to_id")} async for d in cursor]


async def delete_for_post(stores: Stores, post_id: ObjectId) -> int:
    return await stores.backend.delete_many(COLLECTION, {"post_id": post_id})
