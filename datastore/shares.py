"""The `shares` collection: a post sent to a user's share inbox. Unique per (post, sender,
recipient), so sending again changes nothing and `share_count` counts distinct sends."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from datastore.dirty import mark_dirty
from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

COLLECTION = "shares"


class ShareDoc(TypedDict):
    _id: ObjectId
    post_id: ObjectId
    sender_id: ObjectId
    recipient_id: ObjectId
    created_at: datetime


register_indexes(
    COLLECTION,
    [
        IndexModel(
            [("post_id", ASCENDING), ("sender_id", ASCENDING), ("recipient_id", ASCENDING)],
            unique=True,
        ),
        IndexModel([("recipient_id", ASCENDING), ("_id", DESCENDING)]),
    ],
)
_INBOX = query(
    COLLECTION, "share inbox page", equality=("recipient_id",), sort=(("_id", -1),), range="_id"
)
_OF_POST = query(COLLECTION, "shares of a post", equality=("post_id",))


async def insert_share(
    stores: Stores,
    post_id: ObjectId,
    sender_id: ObjectId,
    recipient_id: ObjectId,
    created_at: datetime,
) -> bool:
    """Returns False when the sender already shared the post with the recipient."""
    await mark_dirty(stores, {"posts": [post_id]})
    doc = {
        "post_id": post_id,
        "sender_id": sender_id,
        "recipient_id": recipient_id,
        "created_at": created_at,
    }
    try:
        await stores.backend.insert_one(COLLECTION, doc)
    except DuplicateKeyError:
        return False
    return True


async def inbox_batch(
    stores: Stores, recipient_id: ObjectId, *, before: ObjectId | None, limit: int
) -> list[ShareDoc]:
    """Shares received, newest first, older than `before`."""
    q: dict = {"recipient_id": recipient_id}
    if before is not None:
        q["_id"] = {"$lt": before}
    cursor = stores.db[COLLECTION].find(q).sort("_id", DESCENDING).limit(limit)
    return [d async for d in cursor]


async def delete_for_post(stores: Stores, post_id: ObjectId) -> int:
    return await stores.backend.delete_many(COLLECTION, {"post_id": post_id})
