"""editPost (author only): caption and location. Hashtags and mentions are re-derived from the
caption, and a READY post's hashtag/location counts move with them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from bson import ObjectId

from core.errors import Forbidden, NotFound
from core.events import Deps, emit
from datastore import posts
from datastore.posts import PostDoc, PostStatus
from services.create_post import LocationArg, check_caption, check_location
from services.post_counters import recount_edit, upsert_location


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()
"""Leave this field as it is (None means clear it)."""


async def edit_post(
    deps: Deps,
    viewer_id: ObjectId,
    post_id: ObjectId,
    *,
    caption: str | _Keep | None = KEEP,
    location: LocationArg | _Keep | None = KEEP,
) -> PostDoc:
    stores = deps.stores
    found = await posts.find_post(stores, post_id, projection={"author_id": 1})
    if found is None:
        raise NotFound("No such post")
    if found["author_id"] != viewer_id:
        raise Forbidden("Only the author can edit a post")
    now = datetime.now(UTC)
    changes: dict = {"updated_at": now}
    if not isinstance(caption, _Keep):
        text, hashtags, mentions = check_caption(caption)
        changes.update(caption=text, hashtags=hashtags, mentions=mentions)
    if not isinstance(location, _Keep):
        place = check_location(location)
        changes["location"] = (
            await upsert_location(stores, place.name, place.lat, place.lng) if place else None
        )
    before = await posts.update_authored(stores, post_id, viewer_id, changes)
    if before is None:
        raise NotFound("No such post")
    after: PostDoc = {**before, **changes}
    if before["status"] == PostStatus.READY:
        await recount_edit(stores, before, after)
    await emit("post.edited", deps, post_id=post_id, author_id=viewer_id)
    return after
