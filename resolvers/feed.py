"""Feed resolvers: the viewer's home feed and explore."""

from __future__ import annotations

from typing import Literal

from core.pagination import Page
from feed.explore import read_explore
from feed.reader import FeedReader
from resolvers.context import Context
from resolvers.loaders import posts_by_id
from services.touch_activity import note_recorded


def _prime(ctx: Context, page: Page[dict]) -> None:
    """The page's post documents are already in hand; fields resolving `Post` by id reuse them.
    A feed page's authors go straight to `post_connection` (FeedPage.authors), not through the
    users loader: priming makes a future per key, a twentieth of a warm page's cost."""
    loader = ctx.loader(posts_by_id)
    for doc in page.items:
        loader.prime(doc["_id"], doc)
    if page.extensions:
        ctx.extensions.update(page.extensions)


async def home_feed(
    ctx: Context, first: int | None, after: str | None, order: Literal["RECENT", "RANKED"]
) -> Page[dict]:
    viewer = ctx.require_viewer()
    size = ctx.cursors.clamp_first(first)
    reader = FeedReader(ctx.stores)
    if order == "RANKED":
        page = await reader.ranked(viewer, size, after)
    else:
        page = await reader.recent(viewer, size, after)
    if page.activity_recorded:
        # The page's own round trip recorded the read: the activity extension skips its own.
        note_recorded(viewer)
    _prime(ctx, page)
    return page


async def explore(ctx: Context, first: int | None, after: str | None) -> Page[dict]:
    page = await read_explore(ctx.stores, ctx.viewer_id, ctx.cursors.clamp_first(first), after)
    _prime(ctx, page)
    return page
