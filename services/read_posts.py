"""Reading posts with the visibility rules: a post shows to others only when READY and when
services/visibility.py lets the viewer see its author's content; its author always sees it."""

from __future__ import annotations

from bson import ObjectId

from core.cursor import decode_cursor, encode_cursor
from core.ids import parse_object_id
from core.pagination import Page
from datastore.stores import Stores
from services.visibility import can_see_content

PROFILE_CURSOR = "user_posts"


def viewable_status(post: dict, viewer: ObjectId | None) -> bool:
    return post.get("status") == "READY" or post.get("author_id") == viewer


async def can_view_post(
    stores: Stores, viewer: ObjectId | None, post: dict, author: dict | None
) -> bool:
    if author is None or not viewable_status(post, viewer):
        return False
    return await can_see_content(stores, viewer, author)


async def user_posts(
    stores: Stores, viewer: ObjectId | None, owner: dict, first: int, after: str | None
) -> Page[dict]:
    """An author's READY posts, newest first (the profile grid); empty when the viewer may not
    see the owner's content."""
    if first == 0 or not await can_see_content(stores, viewer, owner):
        return Page([], [], False)
    query: dict = {"author_id": owner["_id"], "status": "READY"}
    if after:
        query["_id"] = {"$lt": parse_object_id(decode_cursor(PROFILE_CURSOR, after))}
    docs = [d async for d in stores.db.posts.find(query).sort("_id", -1).limit(first + 1)]
    has_next = len(docs) > first
    docs = docs[:first]
    return Page(docs, [encode_cursor(PROFILE_CURSOR, str(d["_id"])) for d in docs], has_next)
