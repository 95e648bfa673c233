"""Reading posts with the visibility rules of services/visibility.py: the profile grid."""

from __future__ import annotations

from bson import ObjectId

from core.cursor import cursor_codec
from core.pagination import Page
from datastore.posts import PostDoc
from datastore.stores import Stores
from feed.author_posts import author_posts, position_of
from services.visibility import can_see_content

PROFILE_CURSOR = "user_posts"


async def user_posts(
    stores: Stores, viewer: ObjectId | None, owner: dict, first: int, after: str | None
) -> Page[PostDoc]:
    """An author's READY posts, newest first (the profile grid); empty when the viewer may not
    see the owner's content."""
    codec = cursor_codec(stores.settings)
    bound = codec.decode_position(PROFILE_CURSOR, after) if after else None
    if first == 0 or not await can_see_content(stores, viewer, owner):
        return Page([], [], False)
    docs, has_next = await author_posts(stores, owner["_id"], first, bound)
    cursors = [codec.encode(PROFILE_CURSOR, list(position_of(d))) for d in docs]
    return Page(docs, cursors, has_next)
