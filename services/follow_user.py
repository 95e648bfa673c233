"""follow: follow a public account, or ask to follow a private one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bson import ObjectId

from core.errors import BadInput, Forbidden
from core.events import Deps
from datastore import graph
from datastore.accounts import UserDoc
from services.account_lookup import load_user, load_viewer
from services.after_commit import emit_committed
from services.rate_limits import check_rate_limit

FollowStatus = Literal["FOLLOWING", "REQUESTED"]


@dataclass(frozen=True, slots=True)
class FollowResult:
    status: FollowStatus
    user: UserDoc


async def follow_user(deps: Deps, viewer_id: ObjectId, target_id: ObjectId) -> FollowResult:
    """Idempotent: following someone already followed (or already asked) changes nothing and
    spends no rate-limit budget."""
    stores = deps.stores
    if viewer_id == target_id:
        raise BadInput("You cannot follow yourself", argument="userId")
    await load_viewer(stores, viewer_id)
    target = await load_user(stores, target_id)
    if await graph.blocked_among(stores, viewer_id, [target_id]):
        raise Forbidden("You cannot follow this account")
    # A primary-key read, not the zset: under a burst of follows at one account its zset and
    # counter are briefly apart, and a check there would trigger needless rebuilds.
    if await graph.follow_exists(stores, viewer_id, target_id):
        return FollowResult("FOLLOWING", target)
    if target.get("is_private") and await graph.request_exists(stores, viewer_id, target_id):
        return FollowResult("REQUESTED", target)
    await check_rate_limit(stores, "follow", viewer_id)
    if target.get("is_private"):
        if await graph.create_request(stores, viewer_id, target_id):
            if await graph.blocked_among(stores, viewer_id, [target_id]):
                await graph.remove_request(stores, viewer_id, target_id)
                raise Forbidden("You cannot follow this account")
            await emit_committed(
                "user.follow_requested", deps, requester_id=viewer_id, target_id=target_id
            )
        return FollowResult("REQUESTED", target)
    if await graph.create_follow(stores, viewer_id, target_id):
        # A block recorded while this ran removed follows before ours existed: undo ours.
        if await graph.blocked_among(stores, viewer_id, [target_id]):
            await graph.remove_follow(stores, viewer_id, target_id)
            raise Forbidden("You cannot follow this account")
        await emit_committed("user.followed", deps, follower_id=viewer_id, followee_id=target_id)
    return FollowResult("FOLLOWING", await load_user(stores, target_id))
