"""The home feed and explore."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from resolvers import feed as r
from schema.connection import Connection
from schema.posts import Post, post_connection


@strawberry.enum(description="How the home feed is ordered.")
class FeedOrder(Enum):
    RECENT = "RECENT"
    RANKED = "RANKED"


@strawberry.type
class FeedQuery:
    @strawberry.field(
        description=(
            "The viewer's home feed: READY posts of the accounts they follow and their own. "
            "RECENT is newest first; paging never repeats or skips while new posts arrive. "
            "RANKED orders a window by engagement with time decay and the viewer's affinity "
            "to each author, and pages through that snapshot without duplicates. When the "
            "timeline cache is unavailable the feed is served from the database and the "
            "response says so in `extensions.feed`."
        )
    )
    async def feed(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        order: FeedOrder = FeedOrder.RECENT,
    ) -> Connection[Post]:
        page = await r.home_feed(info.context, first, after, order.value)
        return await post_connection(info, page)

    @strawberry.field(
        description=(
            "Popular recent posts from accounts the viewer does not follow (never private or "
            "blocked accounts), ranked by engagement with time decay; refreshed every minute."
        )
    )
    async def explore(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Post]:
        page = await r.explore(info.context, first, after)
        return await post_connection(info, page)
