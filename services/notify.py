"""Create (or grow) a notification and push it to the recipient's live subscriptions.

One document per (recipient, group_key), its `_id` derived from the pair, so finding a group
is a primary-key read and creating it twice fails on the `_id` (atomic on FerretDB too). Likes
on one post share a group, so "alice and 3 others liked your post" is one notification whose
`actor_ids` and `actor_count` grow; an actor already in a group does not count, bump or re-push
it, which is why liking and unliking fifty times yields one notification and one push. Nobody
is notified of their own action or by someone they blocked (or who blocked them).

On FerretDB (serialize_document_writes) writers of one group are serialized by its lock, and
actors arriving meanwhile are queued in Redis and applied in one write by the next holder: 200
people liking a post at once cost a few MongoDB writes and a few pushes, not 200 of each.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from datastore.doc_lock import document_lock, retry_busy
from datastore.stores import Stores
from realtime.channels import publish_notification
from services.interactions_base import now
from services.visibility import blocked_between

NotificationType = Literal["LIKE", "COMMENT", "FOLLOW", "FOLLOW_REQUEST", "MENTION", "SHARE"]

_PENDING_TTL_SECONDS = 24 * 3600
# A group keeps its most recent actors only, so a viral post's notification stays a small
# document (MongoDB's limit is 16 MB, ~1.3M ids). `actor_count` counts every distinct actor up
# to then; an actor who dropped off the kept list and acts again is counted again.
MAX_STORED_ACTORS = 1000


def group_key(
    type_: NotificationType,
    *,
    actor_id: ObjectId,
    post_id: ObjectId | None = None,
    comment_id: ObjectId | None = None,
) -> str:
    if type_ == "LIKE":
        return f"LIKE:{post_id}"
    if type_ == "COMMENT":
        return f"COMMENT:{comment_id}"
    if type_ == "MENTION":
        return f"MENTION:{comment_id}" if comment_id else f"MENTION:post:{post_id}"
    if type_ == "SHARE":
        return f"SHARE:{post_id}:{actor_id}"
    return f"{type_}:{actor_id}"


def notification_id(recipient_id: ObjectId, key: str) -> ObjectId:
    """The `_id` of a recipient's notification group."""
    return ObjectId(hashlib.sha256(f"{recipient_id}|{key}".encode()).digest()[:12])


async def notify(
    stores: Stores,
    *,
    recipient_id: ObjectId,
    type_: NotificationType,
    actor_id: ObjectId,
    post_id: ObjectId | None = None,
    comment_id: ObjectId | None = None,
) -> bool:
    """Record that `actor_id` did `type_` to `recipient_id`. Returns False when nobody is to be
    notified (own action, a block) or the actor is already in the group."""
    if recipient_id == actor_id or await blocked_between(stores, recipient_id, actor_id):
        return False
    key = group_key(type_, actor_id=actor_id, post_id=post_id, comment_id=comment_id)
    nid = notification_id(recipient_id, key)
    base = {
        "_id": nid,
        "recipient_id": recipient_id,
        "type": type_,
        "post_id": post_id,
        "comment_id": comment_id,
        "group_key": key,
    }
    if not stores.settings.serialize_document_writes:
        added = await _add_atomically(stores, base, actor_id)
        if added:
            await publish_notification(stores, recipient_id, nid)
        return added
    # Coalesced: published by whoever wrote the group, as soon as the write landed.
    return await _add_coalesced(stores, base, actor_id)


async def _add_atomically(stores: Stores, base: dict, actor_id: ObjectId) -> bool:
    """MongoDB: a guarded update (the actor not yet in the group) is atomic on its own."""
    t = now()
    for _ in range(2):
        result = await retry_busy(
            lambda: stores.db.notifications.update_one(
                {"_id": base["_id"], "actor_ids": {"$ne": actor_id}},
                {
                    "$push": {"actor_ids": {"$each": [actor_id], "$slice": -MAX_STORED_ACTORS}},
                    "$inc": {"actor_count": 1},
                    "$set": {"updated_at": t, "read": False},
                },
            )
        )
        if result.matched_count:
            return True
        try:
            await retry_busy(
                lambda: stores.db.notifications.insert_one(
                    {
                        **base,
                        "actor_ids": [actor_id],
                        "actor_count": 1,
                        "read": False,
                        "created_at": t,
                        "updated_at": t,
                    }
                )
            )
            return True
        except DuplicateKeyError:
            continue  # exists: we are already in it, or the retry's update joins it
    return False


async def _add_coalesced(stores: Stores, base: dict, actor_id: ObjectId) -> bool:
    nid = base["_id"]
    pending = stores.keys("pending", "notif", nid)
    async with stores.redis.pipeline(transaction=True) as pipe:
        pipe.rpush(pending, str(actor_id))
        pipe.expire(pending, _PENDING_TTL_SECONDS)
        await pipe.execute()
    async with document_lock(stores, "notifications", nid):
        queued = await stores.redis.lrange(pending, 0, -1)
        if not queued:
            return False  # an earlier holder applied (and pushed) our actor
        actors = list(dict.fromkeys(ObjectId(q) for q in queued))
        new = await _write_group(stores, base, actors)
        if new:
            # The group is written (the subscriber re-reads it by `_id`): push now, before the
            # clean-up below, which the recipient does not wait for.
            await publish_notification(stores, base["recipient_id"], nid)
        # Drop only what we consumed: actors queued meanwhile wait for the next holder.
        await stores.redis.ltrim(pending, len(queued), -1)
    return bool(new)


async def _write_group(stores: Stores, base: dict, actors: list[ObjectId]) -> list[ObjectId]:
    """Add `actors` to the group (under its lock); returns those that were not in it yet.

    Insert first: most groups are new (a first like, comment or follow), and on FerretDB the
    insert's duplicate check uses the `_id` index, while a read of a missing `_id` scans the
    whole collection. An existing group answers DuplicateKeyError and is then read."""
    nid = base["_id"]
    t = now()
    for _ in range(2):
        try:
            await retry_busy(
                lambda: stores.db.notifications.insert_one(
                    {
                        **base,
                        "actor_ids": actors[-MAX_STORED_ACTORS:],
                        "actor_count": len(actors),
                        "read": False,
                        "created_at": t,
                        "updated_at": t,
                    }
                )
            )
            return actors
        except DuplicateKeyError:
            doc = await stores.db.notifications.find_one({"_id": nid}, projection={"actor_ids": 1})
        if doc is None:
            continue  # deleted in between (its post went): create it afresh
        # actor_ids is kept oldest first (FerretDB ignores $push's $position); readers reverse.
        new = [a for a in actors if a not in set(doc["actor_ids"])]
        if new:
            # Written whole rather than with $push's $slice, which FerretDB ignores.
            update = {
                "$set": {
                    "actor_ids": [*doc["actor_ids"], *new][-MAX_STORED_ACTORS:],
                    "updated_at": t,
                    "read": False,
                },
                "$inc": {"actor_count": len(new)},
            }
            await retry_busy(
                lambda update=update: stores.db.notifications.update_one({"_id": nid}, update)
            )
        return new
    return []


async def withdraw(
    stores: Stores, *, recipient_id: ObjectId, type_: NotificationType, actor_id: ObjectId
) -> None:
    """Remove a notification that no longer stands (a follow request that was answered)."""
    nid = notification_id(recipient_id, group_key(type_, actor_id=actor_id))
    async with document_lock(stores, "notifications", nid):
        await retry_busy(lambda: stores.db.notifications.delete_one({"_id": nid}))


async def remove_actor_between(stores: Stores, a: ObjectId, b: ObjectId) -> None:
    """After a block: neither side keeps notifications of the other's actions."""
    for recipient, actor in ((a, b), (b, a)):
        ids = [
            n["_id"]
            async for n in stores.db.notifications.find(
                {"recipient_id": recipient, "actor_ids": actor}, projection={"_id": 1}
            )
        ]
        for nid in ids:
            async with document_lock(stores, "notifications", nid):
                await retry_busy(
                    lambda nid=nid, actor=actor: stores.db.notifications.update_one(
                        {"_id": nid, "actor_ids": actor},
                        {"$pull": {"actor_ids": actor}, "$inc": {"actor_count": -1}},
                    )
                )
                await retry_busy(
                    lambda nid=nid: stores.db.notifications.delete_one(
                        {"_id": nid, "actor_count": {"$lte": 0}}
                    )
                )
