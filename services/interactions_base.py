"""What likes, comments, shares and notifications share: the "may this user act on this post"
check and small helpers. Their collections and indexes are in datastore/ (likes.py, comments.py,
shares.py, notifications.py). No GraphQL here."""

from __future__ import annotations

from datetime import UTC, datetime

from bson import ObjectId

from core.errors import NotFound
from datastore.posts import find_post
from datastore.stores import Stores
from services.visibility import can_view_post

COMMENT_MAX_CHARS = 2200
SHARE_MAX_RECIPIENTS = 20


def now() -> datetime:
    """Now, truncated to the millisecond MongoDB stores, so a time read back equals the one
    written (cursors compare them)."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def to_ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def may_see_post(stores: Stores, viewer: ObjectId | None, post: dict) -> bool:
    """May `viewer` see `post`? (services/visibility.py decides.)"""
    return await can_view_post(stores, viewer, post)


async def load_visible_post(stores: Stores, viewer: ObjectId | None, post_id: ObjectId) -> dict:
    """The post, if `viewer` may see it; NOT_FOUND otherwise (a hidden post is not confirmed to
    exist)."""
    post = await find_post(stores, post_id)
    if post is None or not await may_see_post(stores, viewer, post):
        raise NotFound("Post not found")
    return post
