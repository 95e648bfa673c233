"""The RECENT page in one Redis round trip (push and hybrid): feed/recent_page_lua.py.

Why a Lua script through EVALSHA (redis-py's `register_script`) rather than a Redis 7 Function:
the script travels with the code that calls it, so a deploy never has to FUNCTION LOAD first,
an old and a new API process can run side by side with different versions (each by its own
SHA), and a Redis restarted or replaced without persistence heals itself (NOSCRIPT, then
SCRIPT LOAD and a retry: two extra round trips once per process and server). A Function would
need a loading step in deploys and tests, and a library version check on every start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bson import ObjectId

from datastore.activity import now_ms, unflushed_key
from datastore.doc_cache import post_cache, user_cache
from datastore.graph import graph_key
from datastore.redis import script, text
from datastore.stores import Stores
from feed.keys import FeedKeys
from feed.recent_page_lua import SOURCE

Position = tuple[int, str]
# The script's reason when the viewer's document is not cached (feed/recent_page_lua.py).
VIEWER_NOT_CACHED = "viewer document not cached"


@dataclass(slots=True)
class FastPage:
    """What the script found. `entries` are in page order: (position, document or None for a
    cache miss still to be read and filtered)."""

    entries: list[tuple[Position, dict | None]]
    authors: dict[ObjectId, dict]  # authors of the entries that hit (cached documents)
    exhausted: bool
    truncated: bool
    last: Position | None
    celebrities: list[ObjectId] = field(default_factory=list)


async def recent_page(
    stores: Stores,
    viewer: ObjectId,
    want: int,
    bound: Position | None,
    *,
    slack: int,
    max_passes: int,
    hybrid: bool,
) -> FastPage | str:
    """Run the script; returns the page, or the reason the caller must take the Python path.
    Raises RedisError like any Redis call (the caller degrades to MongoDB)."""
    keys = FeedKeys(stores)
    users, posts = user_cache(stores), post_cache(stores)
    reply = await script(stores.redis_raw, SOURCE)(
        keys=[
            keys.active(),
            graph_key(stores, "following", viewer),
            keys.timeline(viewer),
            keys.timeline_built(viewer),
            keys.celebrities(),
            users.key(viewer),
            unflushed_key(stores),
        ],
        args=[
            str(viewer),
            now_ms(),
            want,
            slack,
            max_passes,
            "" if bound is None else bound[0],
            "" if bound is None else bound[1],
            "1" if hybrid else "0",
            stores.settings.timeline_cap,
            keys.authored(""),
            keys.authored_built(""),
            posts.key_prefix(),
            users.key_prefix(),
        ],
    )
    if text(reply[0]) != "ok":
        return text(reply[1])
    _, raw_entries, raw_authors, flags, celebs = reply
    entries: list[tuple[Position, dict | None]] = []
    for i in range(0, len(raw_entries), 3):
        member, score, raw = raw_entries[i : i + 3]
        # An unreadable entry decodes to None: read again through the cache's own path.
        doc = posts.decode(raw) if raw else None
        entries.append(((int(float(score)), text(member)), doc))
    authors: dict[ObjectId, dict] = {}
    for i in range(0, len(raw_authors), 2):
        author, raw = raw_authors[i : i + 2]
        doc = users.decode(raw) if raw else None
        if doc is not None:
            authors[ObjectId(text(author))] = doc
    # Hits only: the misses are counted when the caller reads them through the cache.
    posts.observe(sum(1 for _, doc in entries if doc is not None), 0)
    users.observe(1 + len(authors), 0)  # the viewer's document, then the authors'
    last_score, last_id = text(flags[2]), text(flags[3])
    return FastPage(
        entries,
        authors,
        exhausted=bool(flags[0]),
        truncated=bool(flags[1]),
        last=(int(float(last_score)), last_id) if last_score else None,
        celebrities=[ObjectId(text(c)) for c in celebs],
    )
