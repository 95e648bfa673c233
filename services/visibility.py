"""Who may see whose content. One place, used by every path that reaches posts and lists.

A user's posts, followers and following are visible to everyone for a public account, and for a
private account only to the owner and approved followers. Blocking (either direction) hides
everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from bson import ObjectId

from datastore.stores import Stores


async def blocked_between(stores: Stores, a: ObjectId, b: ObjectId) -> bool:
    found = await stores.db.blocks.find_one(
        {"$or": [{"blocker_id": a, "blocked_id": b}, {"blocker_id": b, "blocked_id": a}]},
        projection={"_id": 1},
    )
    return found is not None


async def is_following(stores: Stores, follower: ObjectId, followee: ObjectId) -> bool:
    found = await stores.db.follows.find_one(
        {"follower_id": follower, "followee_id": followee}, projection={"_id": 1}
    )
    return found is not None


async def can_see_content(stores: Stores, viewer: ObjectId | None, owner: dict) -> bool:
    """May `viewer` (None: anonymous) see the posts and lists of the user document `owner`?"""
    owner_id = owner["_id"]
    if viewer == owner_id:
        return True
    if viewer is not None and await blocked_between(stores, viewer, owner_id):
        return False
    if not owner.get("is_private"):
        return True
    return viewer is not None and await is_following(stores, viewer, owner_id)


async def visible_owner_ids(
    stores: Stores, viewer: ObjectId | None, owners: Iterable[dict]
) -> set[ObjectId]:
    """Batched `can_see_content`: the ids among `owners` whose content `viewer` may see, in at
    most two queries whatever the number of owners."""
    owners = list(owners)
    ids = [o["_id"] for o in owners]
    if not ids:
        return set()
    blocked: set[ObjectId] = set()
    followed: set[ObjectId] = set()
    if viewer is not None:
        cursor = stores.db.blocks.find(
            {
                "$or": [
                    {"blocker_id": viewer, "blocked_id": {"$in": ids}},
                    {"blocked_id": viewer, "blocker_id": {"$in": ids}},
                ]
            },
            projection={"blocker_id": 1, "blocked_id": 1},
        )
        async for b in cursor:
            blocked.add(b["blocked_id"] if b["blocker_id"] == viewer else b["blocker_id"])
        private = [o["_id"] for o in owners if o.get("is_private") and o["_id"] != viewer]
        if private:
            async for f in stores.db.follows.find(
                {"follower_id": viewer, "followee_id": {"$in": private}},
                projection={"followee_id": 1},
            ):
                followed.add(f["followee_id"])
    visible = set()
    for o in owners:
        oid = o["_id"]
        if oid == viewer:
            visible.add(oid)
        elif oid in blocked:
            continue
        elif not o.get("is_private") or oid in followed:
            visible.add(oid)
    return visible
