"""approveFollowRequest / rejectFollowRequest: the owner of a private account answers."""

from __future__ import annotations

from bson import ObjectId

from core.errors import NotFound
from core.events import Deps, emit
from datastore import graph
from datastore.accounts import UserDoc
from services.account_lookup import load_user, load_viewer


async def approve_follow_request(deps: Deps, owner_id: ObjectId, requester_id: ObjectId) -> UserDoc:
    """Turn `requester_id`'s pending request into a follow. Returns the requester. Approving a
    request that no longer exists is NOT_FOUND unless the requester already follows."""
    stores = deps.stores
    await load_viewer(stores, owner_id)
    await load_user(stores, requester_id)
    # The edge goes in before the request goes away, so a racing approval that finds no
    # request finds the edge instead; the edge's unique _id makes the follow count once.
    if await graph.request_exists(stores, requester_id, owner_id):
        if await graph.create_follow(stores, requester_id, owner_id):
            await emit("user.followed", deps, follower_id=requester_id, followee_id=owner_id)
        await graph.remove_request(stores, requester_id, owner_id)
    elif not await graph.follow_exists(stores, requester_id, owner_id):
        raise NotFound("No pending follow request from this user")
    return await load_user(stores, requester_id)


async def reject_follow_request(deps: Deps, owner_id: ObjectId, requester_id: ObjectId) -> UserDoc:
    """Drop the pending request (idempotent). Returns the requester."""
    stores = deps.stores
    await load_viewer(stores, owner_id)
    requester = await load_user(stores, requester_id)
    await graph.remove_request(stores, requester_id, owner_id)
    return requester


async def approve_all_requests(deps: Deps, owner_id: ObjectId) -> int:
    """Approve every pending request (an account turning public keeps no one waiting)."""
    approved = 0
    for requester in await graph.all_request_ids(deps.stores, owner_id):
        if await graph.create_follow(deps.stores, requester, owner_id):
            await emit("user.followed", deps, follower_id=requester, followee_id=owner_id)
            approved += 1
        await graph.remove_request(deps.stores, requester, owner_id)
    return approved
