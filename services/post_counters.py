"""Counters that follow a post's life: the author's post_count and each hashtag's and location's
post_count count READY posts only. They change in the same code path as the status transition
or delete that they count, and only when that write actually happened, so they stay exact."""

from __future__ import annotations

from bson import ObjectId

from datastore import hashtags, locations
from datastore.dirty import DirtyKind, mark_dirty
from datastore.doc_lock import update_document
from datastore.posts import PostDoc, PostLocation
from datastore.stores import Stores
from services.text import normalize_location_name


async def _inc_hashtags(stores: Stores, names: list[str], delta: int) -> None:
    await hashtags.add_to_count(stores, names, delta)


async def _inc_location(stores: Stores, location: PostLocation | None, delta: int) -> None:
    if location and location.get("id"):
        await locations.add_to_count(stores, location["id"], delta)


def _marks(post: PostDoc) -> dict[DirtyKind, list]:
    """The documents whose post counts this post moves (datastore/dirty.py)."""
    return {
        "users": [post["author_id"]],
        "hashtags": list(post.get("hashtags") or []),
        "locations": [location_id(post)],
    }


async def count_post(stores: Stores, post: PostDoc, delta: int) -> None:
    """Count (+1, on READY) or uncount (-1, on deleting a READY post) a post everywhere."""
    await mark_dirty(stores, _marks(post))
    await update_document(stores, "users", post["author_id"], {"$inc": {"post_count": delta}})
    await _inc_hashtags(stores, post.get("hashtags") or [], delta)
    await _inc_location(stores, post.get("location"), delta)


async def recount_edit(stores: Stores, before: PostDoc, after: PostDoc) -> None:
    """Move a READY post's counts from its old hashtags/location to its new ones."""
    old, new = _marks(before), _marks(after)
    await mark_dirty(stores, {k: [*old[k], *new[k]] for k in ("hashtags", "locations")})
    old, new = set(before.get("hashtags") or []), set(after.get("hashtags") or [])
    await _inc_hashtags(stores, [t for t in after.get("hashtags") or [] if t not in old], 1)
    await _inc_hashtags(stores, [t for t in before.get("hashtags") or [] if t not in new], -1)
    old_loc = (before.get("location") or {}).get("id")
    new_loc = (after.get("location") or {}).get("id")
    if old_loc != new_loc:
        await _inc_location(stores, after.get("location"), 1)
        await _inc_location(stores, before.get("location"), -1)


def place_key(name: str, lat: float | None, lng: float | None) -> str:
    """One place: its normalized name plus coordinates rounded to ~100 m (none: name only)."""
    coords = "" if lat is None or lng is None else f"|{lat:.3f}|{lng:.3f}"
    return normalize_location_name(name) + coords


async def upsert_location(
    stores: Stores, name: str, lat: float | None, lng: float | None
) -> PostLocation:
    """The `locations` document of a place, created on first use (post_count 0 until a post
    there becomes READY). Returns the post's embedded {id, name, lat, lng}."""
    key = place_key(name, lat, lng)
    doc = await locations.upsert_place(stores, key, name, normalize_location_name(name), lat, lng)
    return {"id": doc["_id"], "name": doc["name"], "lat": doc.get("lat"), "lng": doc.get("lng")}


def location_id(post: PostDoc) -> ObjectId | None:
    return (post.get("location") or {}).get("id")
