"""Create (or grow) a notification and push it to the recipient's live subscriptions.

Likes on one post share a group (datastore/notifications.py), so "alice and 3 others liked
your post" is one notification whose actors grow; an actor already in a group does not count,
bump or re-push it, which is why liking and unliking fifty times yields one notification and
one push. Nobody is notified of their own action or by someone they blocked (or who blocked
them).
"""

from __future__ import annotations

from bson import ObjectId

from datastore import notifications
from datastore.notifications import NotificationGroup, NotificationType, notification_id
from datastore.stores import Stores
from realtime.channels import publish_notification
from services.visibility import blocked_between

__all__ = ["NotificationType", "group_key", "notify", "remove_actor_between", "withdraw"]


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
    group: NotificationGroup = {
        "_id": notification_id(recipient_id, key),
        "recipient_id": recipient_id,
        "type": type_,
        "post_id": post_id,
        "comment_id": comment_id,
        "group_key": key,
    }

    async def push() -> None:
        # The subscriber re-reads the group by `_id`, so this runs once it is written.
        await publish_notification(stores, recipient_id, group["_id"])

    return await notifications.join_group(stores, group, actor_id, push)


async def withdraw(
    stores: Stores, *, recipient_id: ObjectId, type_: NotificationType, actor_id: ObjectId
) -> None:
    """Remove a notification that no longer stands (a follow request that was answered)."""
    key = group_key(type_, actor_id=actor_id)
    await notifications.delete_group(stores, notification_id(recipient_id, key))


async def remove_actor_between(stores: Stores, a: ObjectId, b: ObjectId) -> None:
    """After a block: neither side keeps notifications of the other's actions."""
    for recipient, actor in ((a, b), (b, a)):
        await notifications.remove_actor(stores, recipient, actor)
