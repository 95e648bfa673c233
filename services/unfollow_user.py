"""unfollow: stop following, or withdraw a pending follow request. Idempotent."""

from __future__ import annotations

from bson import ObjectId

from core.errors import BadInput
from core.events import Deps, emit
from datastore import graph
from datastore.accounts import UserDoc
from services.account_lookup import load_user, load_viewer


async def unfollow_user(deps: Deps, viewer_id: ObjectId, target_id: ObjectId) -> UserDoc:
    stores = deps.stores
    if viewer_id == target_id:
        raise BadInput("You cannot unfollow yourself", argument="userId")
    await load_viewer(stores, viewer_id)
    await load_user(stores, target_id)
    await graph.remove_request(stores, viewer_id, target_id)
    if await graph.remove_follow(stores, viewer_id, target_id):
        await emit("user.unfollowed", deps, follower_id=viewer_id, followee_id=target_id)
    return await load_user(stores, target_id)
