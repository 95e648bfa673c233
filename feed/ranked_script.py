"""A RANKED page from its snapshot in one Redis round trip: feed/ranked_page_lua.py.

The snapshot's ids, whether it lives and how it continues, the page's post documents and their
authors' documents come back together; a page used to take four round trips (the reusable
snapshot, the slice, the posts, the authors). Cache misses alone are read by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from bson import ObjectId

from datastore.activity import active_key, now_ms, unflushed_key
from datastore.doc_cache import post_cache, user_cache
from datastore.redis import script, text
from datastore.stores import Stores
from feed.keys import FeedKeys
from feed.ranked_page_lua import SOURCE

NEW = "new"  # a first page with no snapshot to reuse: rank one, then ask again
EXPIRED = "expired"  # the cursor's snapshot is gone


@dataclass(slots=True)
class SnapshotPage:
    snapshot: str
    next_window: str | None  # the cursor of the window after the snapshot's last, if any
    ids: list[str]  # the page's ids plus one more when there is a next item
    docs: list[dict | None]  # one per page id (None: a cache miss)
    authors: dict[ObjectId, dict]  # the authors of the documents that hit (cached)


async def snapshot_page(
    stores: Stores, viewer: ObjectId, snapshot: str | None, offset: int, first: int
) -> SnapshotPage | str:
    """The page at `offset` of `snapshot` (None: the viewer's reusable one, recording the read);
    or NEW / EXPIRED. Raises RedisError like any Redis call."""
    keys = FeedKeys(stores)
    posts, users = post_cache(stores), user_cache(stores)
    reply = await script(stores.redis_raw, SOURCE)(
        keys=[keys.ranked_latest(viewer), active_key(stores), unflushed_key(stores)],
        args=[
            str(viewer),
            now_ms(),
            snapshot or "",
            offset,
            first,
            keys.ranked_snapshot(viewer, ""),
            posts.key_prefix(),
            users.key_prefix(),
        ],
    )
    status = text(reply[0])
    if status != "ok":
        return status
    _, snap, next_window, raw_ids, raw_docs, raw_authors = reply
    docs = [posts.decode(raw) if raw else None for raw in raw_docs]
    authors: dict[ObjectId, dict] = {}
    for i in range(0, len(raw_authors), 2):
        author, raw = raw_authors[i : i + 2]
        doc = users.decode(raw) if raw else None
        if doc is not None:
            authors[ObjectId(text(author))] = doc
    posts.observe(sum(1 for d in docs if d is not None), 0)
    users.observe(len(authors), 0)
    return SnapshotPage(
        text(snap),
        text(next_window) or None,
        [text(i) for i in raw_ids],
        docs,
        authors,
    )
