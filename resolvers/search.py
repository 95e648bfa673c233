"""Resolvers for search and the hashtag and location pages: viewer, arguments, then search/."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId

from core.ids import decode_id
from core.pagination import Page
from search import queries
from search.queries import HashtagHit, LocationHit, PostOrder

if TYPE_CHECKING:
    from resolvers.context import Context


async def resolve_search_users(
    ctx: Context, query: str, first: int | None, after: str | None
) -> Page[dict]:
    return await queries.search_users(
        ctx.stores, ctx.viewer_id, query, ctx.cursors.clamp_first(first), after
    )


async def resolve_search_hashtags(
    ctx: Context, query: str, first: int | None, after: str | None
) -> Page[HashtagHit]:
    return await queries.search_hashtags(ctx.stores, query, ctx.cursors.clamp_first(first), after)


async def resolve_search_locations(
    ctx: Context,
    query: str,
    first: int | None,
    after: str | None,
    lat: float | None,
    lng: float | None,
    radius_km: float | None,
) -> Page[LocationHit]:
    return await queries.search_locations(
        ctx.stores,
        query,
        ctx.cursors.clamp_first(first),
        after,
        lat=lat,
        lng=lng,
        radius_km=radius_km,
    )


async def resolve_hashtag(ctx: Context, name: str) -> HashtagHit | None:
    return await queries.get_hashtag(ctx.stores, name)


async def resolve_location(ctx: Context, global_id: str) -> LocationHit | None:
    return await queries.get_location(ctx.stores, decode_id(global_id, "Location"))


async def resolve_hashtag_posts(
    ctx: Context, name: str, order: PostOrder, first: int | None, after: str | None
) -> Page[dict]:
    return await queries.hashtag_posts(
        ctx.stores, ctx.viewer_id, name, order, ctx.cursors.clamp_first(first), after
    )


async def resolve_location_posts(
    ctx: Context, location_id: ObjectId, order: PostOrder, first: int | None, after: str | None
) -> Page[dict]:
    return await queries.location_posts(
        ctx.stores, ctx.viewer_id, location_id, order, ctx.cursors.clamp_first(first), after
    )


def location_doc(hit: LocationHit) -> dict:
    """A search hit in the shape `schema.posts.Location.from_doc` reads."""
    return {
        "_id": hit.id,
        "id": hit.id,
        "name": hit.name,
        "lat": hit.lat,
        "lng": hit.lng,
        "post_count": hit.post_count,
        "distance_km": hit.distance_km,
    }
