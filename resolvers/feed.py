"""Feed resolvers: the viewer's home feed and explore."""

from __future__ import annotations

from typing import Literal

from core.pagination import Page
from feed.explore import read_explore
from feed.reader import FeedPage, FeedReader
from resolvers.context import Context
from resolvers.loaders import posts_by_id, users_by_id
from services.touch_activity import note_recorded


def _prime(ctx: Context, page: Page[dict]) -> None:
    """The page's post documents are already in hand; fields resolving `Post` by id reuse them.
    A feed page also brings its authors: primed, `post_connection`'s batched author read
    (resolvers/posts.py `authors_of`) finds them all in the loader and reads nothing."""
    loader = ctx.loader(posts_by_id)
    for doc in page.items:
        loader.prime(doc["_id"], doc)
    if isinstance(page, FeedPage) and page.authors:
        users = ctx.loader(users_by_id)
        for author_id, author in page.authors.items():
            if author is not None:
                users.prime(author_id, author)
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
