"""Reading posts with the visibility rules: a post shows to others only when READY and when
services/visibility.py lets the viewer see its author's content; its author always sees it."""

from __future__ import annotations

from bson import ObjectId

from core.cursor import decode_position, encode_cursor
from core.pagination import Page
from datastore.stores import Stores
from feed.author_posts import author_posts, position_of
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
    bound = decode_position(PROFILE_CURSOR, after) if after else None
    if first == 0 or not await can_see_content(stores, viewer, owner):
        return Page([], [], False)
    docs, has_next = await author_posts(stores, owner["_id"], first, bound)
    cursors = [encode_cursor(PROFILE_CURSOR, list(position_of(d))) for d in docs]
    return Page(docs, cursors, has_next)
