"""The RANKED feed while Redis is down: one window of the newest items from MongoDB, ranked
in the request, with no snapshot to keep.

Why a window: the ranking's snapshot, the viewer's affinity and the timelines live in Redis.
MongoDB still has what ranking needs (the posts of the accounts the viewer follows, their
counts), so the first RANK_WINDOW of them are ranked by engagement and time (no affinity) and
paged by offset: each page ranks the same window again, so the order holds while nothing new
arrives. The response says so in `extensions.feed`, as the degraded RECENT feed does."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from bson import ObjectId

from core.errors import BadInput
from core.pagination import LazyCursors
from feed.ranking import candidate_of, rank

if TYPE_CHECKING:
    from feed.reader import FeedPage, FeedReader

# The first element of a degraded RANKED cursor, where a snapshot's name goes otherwise: no
# snapshot has this name, so once Redis is back the cursor reads as expired (start again).
DEGRADED_SNAPSHOT = "mongodb"
DEGRADED_EXTENSIONS = {
    "feed": {"degraded": True, "source": "mongodb", "reason": "ranking cache unavailable"}
}


async def ranked_from_mongo(
    reader: FeedReader, viewer: ObjectId, first: int, after: str | None, window: int
) -> FeedPage:
    from feed.reader import RANKED_CURSOR, FeedPage

    offset = 0
    if after:
        payload = reader.codec.decode(RANKED_CURSOR, after)
        if not (isinstance(payload, list) and len(payload) == 2):
            raise BadInput("Malformed cursor", argument="after")
        offset = int(payload[1]) if payload[0] == DEGRADED_SNAPSHOT else 0
    newest = await reader.recent(viewer, window, None, with_authors=False)
    by_id = {str(d["_id"]): d for d in newest.items}
    order = rank(map(candidate_of, newest.items), datetime.now(UTC), {})
    items = [by_id[i] for i in order[offset : offset + first]]
    positions = [[DEGRADED_SNAPSHOT, offset + i + 1] for i in range(len(items))]
    authors = await reader._authors(items, {})
    cursors = LazyCursors(partial(reader.codec.encode, RANKED_CURSOR), positions)
    return FeedPage(
        items, cursors, len(order) > offset + first, dict(DEGRADED_EXTENSIONS), authors, False
    )
