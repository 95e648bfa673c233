"""sharePost: send a post to other users' share inbox (`sharedWithMe`).

Only what the sender and every recipient may both see can be shared; the check is all or
nothing, before anything is written. Sending the same post to the same person again changes
nothing (unique index), so `share_count` counts distinct (sender, recipient) sends exactly.
"""

from __future__ import annotations

from bson import ObjectId

from core.errors import BadInput, Forbidden, NotFound
from core.events import Deps, emit
from datastore import accounts, shares
from datastore.post_counters import add_to_post_counters
from realtime.channels import publish_post_update
from services.interactions_base import SHARE_MAX_RECIPIENTS, load_visible_post, now
from services.notify import notify
from services.visibility import blocked_between, can_see_content


async def share_post(
    deps: Deps, viewer_id: ObjectId, post_id: ObjectId, to_user_ids: list[ObjectId]
) -> dict:
    stores = deps.stores
    recipients = list(dict.fromkeys(to_user_ids))
    if not recipients:
        raise BadInput("Share with at least one user", argument="toUserIds")
    if len(recipients) > SHARE_MAX_RECIPIENTS:
        raise BadInput(
            f"Share with at most {SHARE_MAX_RECIPIENTS} users at once",
            argument="toUserIds",
            maximum=SHARE_MAX_RECIPIENTS,
        )
    if viewer_id in recipients:
        raise BadInput("You cannot share a post with yourself", argument="toUserIds")
    post = await load_visible_post(stores, viewer_id, post_id)
    # Fresh reads of the users, as before: not the cache.
    people = {u["_id"]: u for u in await accounts.find_users(stores, recipients)}
    if len(people) != len(recipients):
        raise NotFound("User not found", argument="toUserIds")
    author = next(iter(await accounts.find_users(stores, [post["author_id"]])), None)
    for recipient in recipients:
        if await blocked_between(stores, viewer_id, recipient) or not await can_see_content(
            stores, recipient, author
        ):
            raise Forbidden(
                "A recipient cannot see this post", argument="toUserIds", userId=str(recipient)
            )
    sent: list[ObjectId] = []
    for recipient in recipients:
        if await shares.insert_share(stores, post_id, viewer_id, recipient, now()):
            sent.append(recipient)
    if not sent:
        return post
    updated = await add_to_post_counters(stores, post_id, {"share_count": len(sent)})
    await emit(
        "post.shared", deps, post_id=post_id, sender_id=viewer_id, author_id=post["author_id"]
    )
    for recipient in sent:
        await notify(
            stores, recipient_id=recipient, type_="SHARE", actor_id=viewer_id, post_id=post_id
        )
    await publish_post_update(stores, post_id)
    return updated or post
