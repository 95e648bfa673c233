"""The engagement counters on `posts` (`like_count`, `comment_count`, `share_count`): the only
writes to that collection the interactions make. They move with the edge document they count,
and only when its insert or delete really happened, so they stay exact under concurrency."""

from __future__ import annotations

from typing import Literal

from bson import ObjectId

from datastore.stores import Stores

CounterField = Literal["like_count", "comment_count", "share_count"]


async def add_to_post_counters(
    stores: Stores, post_id: ObjectId, deltas: dict[CounterField, int]
) -> dict | None:
    """Add `deltas` (e.g. {"like_count": 1}) to the post; returns the post document with them
    applied, or None when the post no longer exists."""
    return await stores.backend.add_counters("posts", post_id, dict(deltas))
