"""Search: `searchUsers`, `searchHashtags`, `searchLocations`, `hashtag(name)`, `location(id)`.

`Location` is the posts domain's type (schema/posts.py); its `posts` connection is
`location_posts` below, for that type to expose.
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from resolvers import search as r
from schema.accounts import User
from schema.connection import Connection
from schema.posts import Location, Post, post_connection


@strawberry.enum(description="Order of a hashtag's or location's posts.")
class PostOrder(Enum):
    TOP = "TOP"
    RECENT = "RECENT"


@strawberry.type(description="A hashtag with at least one READY post.")
class Hashtag:
    name: str = strawberry.field(description="Normalized: lowercase, without '#'.")
    post_count: int = strawberry.field(description="READY posts with this hashtag (all authors).")

    @strawberry.field(
        description="READY posts with this hashtag that the viewer may see. TOP: engagement "
        "(likes, comments x2, shares x3, on a log scale) plus recency; RECENT: newest first."
    )
    async def posts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        order: PostOrder = PostOrder.TOP,
    ) -> Connection[Post]:
        page = await r.resolve_hashtag_posts(info.context, self.name, order.value, first, after)
        return await post_connection(info, page)


async def location_posts(
    info: Info,
    location_doc: dict,
    first: int | None = None,
    after: str | None = None,
    order: PostOrder = PostOrder.RECENT,
) -> Connection[Post]:
    """`Location.posts`: READY posts tagged at the location that the viewer may see."""
    key = location_doc.get("id") or location_doc["_id"]
    page = await r.resolve_location_posts(info.context, key, order.value, first, after)
    return await post_connection(info, page)


def _location(hit) -> Location:
    return Location.from_doc(r.location_doc(hit))


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description="Accounts whose username or full name (or a word of either) starts with "
        "`query`, ignoring case and accents. Ranked: exact username, then accounts the viewer "
        "follows, then by follower count. Blocked accounts never appear. At most 100 "
        "characters (else BAD_USER_INPUT); a query with no letters or digits finds nothing."
    )
    async def search_users(
        self, info: Info, query: str, first: int | None = 20, after: str | None = None
    ) -> Connection[User]:
        page = await r.resolve_search_users(info.context, query, first, after)
        return Connection[User].from_page(page, User.from_doc)

    @strawberry.field(
        description="Hashtags with a word starting with `query` ('#' optional, case and "
        "accents ignored), most posts first."
    )
    async def search_hashtags(
        self, info: Info, query: str, first: int | None = 20, after: str | None = None
    ) -> Connection[Hashtag]:
        page = await r.resolve_search_hashtags(info.context, query, first, after)
        return Connection[Hashtag].from_page(
            page, lambda h: Hashtag(name=h.name, post_count=h.post_count)
        )

    @strawberry.field(
        description="Locations with posts whose name has a word starting with `query`, most "
        "posts first. Near a point: pass `lat` and `lng` (and optionally `radiusKm`, default "
        "10, at most 200) to get locations within that radius, nearest first; `query` then "
        "narrows them by name and may be empty."
    )
    async def search_locations(
        self,
        info: Info,
        query: str,
        first: int | None = 20,
        after: str | None = None,
        lat: float | None = None,
        lng: float | None = None,
        radius_km: float | None = None,
    ) -> Connection[Location]:
        page = await r.resolve_search_locations(
            info.context, query, first, after, lat, lng, radius_km
        )
        return Connection[Location].from_page(page, _location)

    @strawberry.field(description="A hashtag by name ('#' optional, any case); null if unused.")
    async def hashtag(self, info: Info, name: str) -> Hashtag | None:
        hit = await r.resolve_hashtag(info.context, name)
        return Hashtag(name=hit.name, post_count=hit.post_count) if hit else None

    @strawberry.field(description="A location by id.")
    async def location(self, info: Info, id: strawberry.ID) -> Location | None:
        hit = await r.resolve_location(info.context, id)
        return _location(hit) if hit else None
