"""block / unblock. Blocking removes follows both ways and pending requests both ways."""

from __future__ import annotations

from bson import ObjectId

from core.errors import BadInput
from core.events import Deps, emit
from datastore import graph
from datastore.accounts import UserDoc
from services.account_lookup import load_user, load_viewer


async def block_user(deps: Deps, viewer_id: ObjectId, target_id: ObjectId) -> UserDoc:
    stores = deps.stores
    if viewer_id == target_id:
        raise BadInput("You cannot block yourself", argument="userId")
    await load_viewer(stores, viewer_id)
    await load_user(stores, target_id)
    # The block goes in first: a follow racing this call re-checks blocks after its insert
    # and undoes itself (services/follow_user.py).
    created = await graph.create_block(stores, viewer_id, target_id)
    for follower, followee in ((viewer_id, target_id), (target_id, viewer_id)):
        await graph.remove_request(stores, follower, followee)
        if await graph.remove_follow(stores, follower, followee):
            await emit("user.unfollowed", deps, follower_id=follower, followee_id=followee)
    if created:
        await emit("user.blocked", deps, blocker_id=viewer_id, blocked_id=target_id)
    return await load_user(stores, target_id)


async def unblock_user(deps: Deps, viewer_id: ObjectId, target_id: ObjectId) -> UserDoc:
    """Idempotent. Follows removed by the block are not restored (as on Instagram)."""
    stores = deps.stores
    if viewer_id == target_id:
        raise BadInput("You cannot unblock yourself", argument="userId")
    await load_viewer(stores, viewer_id)
    target = await load_user(stores, target_id)
    await graph.remove_block(stores, viewer_id, target_id)
    return target
