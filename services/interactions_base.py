"""What likes, comments, shares and notifications share: their indexes, the "may this user act
on this post" check, and small helpers. No GraphQL here."""

from __future__ import annotations

from datetime import UTC, datetime

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from core.errors import NotFound
from datastore.mongo import register_indexes
from datastore.posts import find_post
from datastore.stores import Stores
from services.visibility import can_view_post

COMMENT_MAX_CHARS = 2200
SHARE_MAX_RECIPIENTS = 20

# The unique indexes are what make likes and shares idempotent under concurrency: a counter
# moves only when the insert (or delete) of the edge it counts really happened.
register_indexes(
    "likes",
    [
        IndexModel([("post_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
        IndexModel([("user_id", ASCENDING), ("post_id", ASCENDING)]),
    ],
)
register_indexes(
    "comments",
    [
        IndexModel([("post_id", ASCENDING), ("reply_to_id", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("reply_to_id", ASCENDING), ("_id", ASCENDING)]),
    ],
)
register_indexes(
    "shares",
    [
        IndexModel(
            [("post_id", ASCENDING), ("sender_id", ASCENDING), ("recipient_id", ASCENDING)],
            unique=True,
        ),
        IndexModel([("recipient_id", ASCENDING), ("_id", DESCENDING)]),
    ],
)
register_indexes(
    "notifications",
    [
        # One document per (recipient, group): grouping and "repeat the action, still one
        # notification" both rest on this index.
        IndexModel([("recipient_id", ASCENDING), ("group_key", ASCENDING)], unique=True),
        IndexModel([("recipient_id", ASCENDING), ("updated_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("recipient_id", ASCENDING), ("read", ASCENDING)]),
        IndexModel([("post_id", ASCENDING)]),
        IndexModel([("comment_id", ASCENDING)]),
    ],
)


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
