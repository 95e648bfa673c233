"""Create users and posts straight in the stores, in the shapes of docs/data-model.md, for tests
of one domain that need another domain's data. Each domain's own tests go through GraphQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from datastore import graph
from datastore.accounts import insert_user, move_counters, new_user_document
from datastore.doc_cache import user_cache
from datastore.stores import Stores
from services.tokens import issue_access_token


async def create_user(
    stores: Stores, username: str, *, is_private: bool = False, full_name: str = "", **extra: Any
) -> tuple[ObjectId, str]:
    """Insert a user; returns (user id, access token)."""
    now = datetime.now(UTC)
    doc = new_user_document(
        username, f"{username.lower()}@example.test", "!unusable", full_name, now
    )
    doc = {**doc, "is_private": is_private, **extra}  # type: ignore[typeddict-item]
    user_id = await insert_user(stores, doc)
    assert user_id is not None, f"user {username} exists"
    return user_id, issue_access_token(stores.settings, user_id)


async def follow(stores: Stores, follower: ObjectId, followee: ObjectId) -> None:
    """Record a follow (edge, counters, zsets) through the graph repository, without the
    service's checks and events."""
    await graph.create_follow(stores, follower, followee)


async def create_ready_post(
    stores: Stores,
    author_id: ObjectId,
    *,
    caption: str = "",
    hashtags: list[str] | None = None,
    created_at: datetime | None = None,
    location: dict | None = None,
    **extra: Any,
) -> ObjectId:
    """Insert a READY photo post with one fake rendition (no object is stored)."""
    created = created_at or datetime.now(UTC)
    # An id whose timestamp is the post's time, like one made then; the random tail keeps ids
    # of posts created in the same second distinct.
    post_id = (
        ObjectId(ObjectId.from_datetime(created).binary[:4] + os.urandom(8))
        if created_at
        else ObjectId()
    )
    doc = {
        "_id": post_id,
        "author_id": author_id,
        "status": "READY",
        "failure_reason": None,
        "caption": caption,
        "hashtags": hashtags or [],
        "mentions": [],
        "location": location,
        "media": [
            {
                "type": "PHOTO",
                "width": 1080,
                "height": 1080,
                "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                "source_key": f"test/{post_id}/src",
                "renditions": [
                    {
                        "width": 1080,
                        "height": 1080,
                        "key": f"test/{post_id}/1080.webp",
                        "content_type": "image/webp",
                    }
                ],
                "duration_seconds": None,
                "poster_key": None,
            }
        ],
        "like_count": 0,
        "comment_count": 0,
        "share_count": 0,
        "created_at": created,
        "published_at": created,
        "updated_at": created,
        **extra,
    }
    await stores.db.posts.insert_one(doc)
    await move_counters(stores, author_id, {"post_count": 1})
    # A direct write bypasses the post.ready event, so forget the derived copies it would have
    # updated: the author's authored set is rebuilt from MongoDB on its next read.
    await stores.redis.delete(stores.keys("authb", author_id), user_cache(stores).key(author_id))
    return post_id
