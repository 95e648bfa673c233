"""The `notifications` collection: one document per (recipient, group_key), its `_id` derived
from the pair, so finding a group is a primary-key read and creating it twice fails on the
`_id`. A group's `actor_ids` (oldest first, the newest MAX_STORED_ACTORS kept) and
`actor_count` grow as actors join it; `updated_at` orders the list."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal, TypedDict

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from datastore.backend import OnJoined
from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

COLLECTION = "notifications"

NotificationType = Literal["LIKE", "COMMENT", "FOLLOW", "FOLLOW_REQUEST", "MENTION", "SHARE"]

# A group keeps its most recent actors only, so a viral post's notification stays a small
# document (MongoDB's limit is 16 MB, ~1.3M ids). `actor_count` counts every distinct actor up
# to then; an actor who dropped off the kept list and acts again is counted again.
MAX_STORED_ACTORS = 1000


class NotificationGroup(TypedDict):
    """The fixed fields of a group, as the first actor creates it."""

    _id: ObjectId
    recipient_id: ObjectId
    type: NotificationType
    post_id: ObjectId | None
    comment_id: ObjectId | None
    group_key: str


class NotificationDoc(NotificationGroup):
    actor_ids: list[ObjectId]
    actor_count: int
    read: bool
    created_at: datetime
    updated_at: datetime


register_indexes(
    COLLECTION,
    [
        # One document per (recipient, group): grouping and "repeat the action, still one
        # notification" both rest on this index.
        IndexModel([("recipient_id", ASCENDING), ("group_key", ASCENDING)], unique=True),
        IndexModel([("recipient_id", ASCENDING), ("updated_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("recipient_id", ASCENDING), ("read", ASCENDING)]),
        IndexModel([("post_id", ASCENDING)]),
        IndexModel([("comment_id", ASCENDING)]),
    ],
)
_GROUP = query(COLLECTION, "group of a recipient", equality=("recipient_id", "group_key"))
_LIST = query(
    COLLECTION,
    "notifications page",
    equality=("recipient_id",),
    sort=(("updated_at", -1), ("_id", -1)),
)
_UNREAD = query(COLLECTION, "unread of a recipient", equality=("recipient_id", "read"))
# `actor_ids` is then filtered among the recipient's own groups: a multikey index over up to
# MAX_STORED_ACTORS ids per group would cost every join, for a query only a block runs.
_WITH_ACTOR = query(COLLECTION, "groups of a recipient with an actor", equality=("recipient_id",))
_OF_POST = query(COLLECTION, "notifications of a post", equality=("post_id",))
_OF_COMMENTS = query(COLLECTION, "notifications of comments", equality=("comment_id",))

_ORDER = [("updated_at", DESCENDING), ("_id", DESCENDING)]


def notification_id(recipient_id: ObjectId, key: str) -> ObjectId:
    """The `_id` of a recipient's notification group."""
    return ObjectId(hashlib.sha256(f"{recipient_id}|{key}".encode()).digest()[:12])


async def join_group(
    stores: Stores, group: NotificationGroup, actor_id: ObjectId, on_joined: OnJoined
) -> bool:
    """Add the actor to the group, creating it; False when the actor was in it already.
    `on_joined` runs once the group is written (to push it to the recipient)."""
    return await stores.backend.join_group(
        COLLECTION, group, actor_id, max_actors=MAX_STORED_ACTORS, on_joined=on_joined
    )


async def delete_group(stores: Stores, notification: ObjectId) -> None:
    await stores.backend.delete_document(COLLECTION, notification)


async def remove_actor(stores: Stores, recipient_id: ObjectId, actor_id: ObjectId) -> None:
    """Take the actor out of every group of the recipient; a group left without actors goes."""
    cursor = stores.db[COLLECTION].find(
        {"recipient_id": recipient_id, "actor_ids": actor_id}, projection={"_id": 1}
    )
    for nid in [n["_id"] async for n in cursor]:
        await stores.backend.update_document(
            COLLECTION,
            nid,
            {"$pull": {"actor_ids": actor_id}, "$inc": {"actor_count": -1}},
            where={"actor_ids": actor_id},
        )
        # Conditional, so an actor joining in between keeps the group.
        await stores.backend.delete_document(COLLECTION, nid, where={"actor_count": {"$lte": 0}})


async def find_notification(stores: Stores, notification: ObjectId) -> NotificationDoc | None:
    return await stores.db[COLLECTION].find_one({"_id": notification})


def _before(t: datetime, oid: ObjectId, *, inclusive: bool) -> dict[str, Any]:
    return {
        "$or": [
            {"updated_at": {"$lt": t}},
            {"updated_at": t, "_id": {"$lte" if inclusive else "$lt": oid}},
        ]
    }


async def page_of_recipient(
    stores: Stores,
    recipient_id: ObjectId,
    *,
    before: tuple[datetime, ObjectId] | None,
    limit: int,
) -> list[NotificationDoc]:
    """Most recent activity first, strictly after the (updated_at, _id) `before`."""
    q: dict[str, Any] = {"recipient_id": recipient_id}
    if before is not None:
        q.update(_before(*before, inclusive=False))
    cursor = stores.db[COLLECTION].find(q).sort(_ORDER).limit(limit)
    return [d async for d in cursor]


async def unread_count(stores: Stores, recipient_id: ObjectId) -> int:
    return await stores.db[COLLECTION].count_documents(
        {"recipient_id": recipient_id, "read": False}
    )


async def mark_read(stores: Stores, recipient_id: ObjectId, up_to: NotificationDoc | None) -> int:
    """Mark read `up_to` and everything older in the list (all when None); returns how many
    changed."""
    q: dict[str, Any] = {"recipient_id": recipient_id, "read": False}
    if up_to is not None:
        q.update(_before(up_to["updated_at"], up_to["_id"], inclusive=True))
    return await stores.backend.mark_read(COLLECTION, q)


async def delete_for_post(stores: Stores, post_id: ObjectId) -> int:
    return await stores.backend.delete_many(COLLECTION, {"post_id": post_id})


async def delete_for_comments(stores: Stores, comment_ids: list[ObjectId]) -> int:
    return await stores.backend.delete_many(COLLECTION, {"comment_id": {"$in": comment_ids}})
