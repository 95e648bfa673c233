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
from datastore.doc_cache import entry_time, post_cache, user_cache
from datastore.graph import graph_key
from datastore.redis import script, text
from datastore.stores import Stores
from feed.keys import FeedKeys
from feed.ranking import Candidate, candidate_of
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


async def _run(
    stores: Stores,
    viewer: ObjectId,
    want: int,
    bound: Position | None,
    *,
    slack: int,
    max_passes: int,
    hybrid: bool,
    candidates: bool,
) -> list:
    keys = FeedKeys(stores)
    users, posts = user_cache(stores), post_cache(stores)
    return await script(stores.redis_raw, SOURCE)(
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
            "1" if candidates else "0",
        ],
    )


def _flags(flags: list) -> tuple[bool, bool, Position | None]:
    last_score, last_id = text(flags[2]), text(flags[3])
    last = (int(float(last_score)), last_id) if last_score else None
    return bool(flags[0]), bool(flags[1]), last


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
    users, posts = user_cache(stores), post_cache(stores)
    reply = await _run(
        stores,
        viewer,
        want,
        bound,
        slack=slack,
        max_passes=max_passes,
        hybrid=hybrid,
        candidates=False,
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
    exhausted, truncated, last = _flags(flags)
    return FastPage(
        entries,
        authors,
        exhausted=exhausted,
        truncated=truncated,
        last=last,
        celebrities=[ObjectId(text(c)) for c in celebs],
    )


@dataclass(slots=True)
class CandidatePage:
    """The script's answer in ranking form: (position, candidate or None for a cache miss)."""

    entries: list[tuple[Position, Candidate | None]]
    exhausted: bool
    truncated: bool

    def settled(self, want: int) -> bool:
        """Whether this is the whole answer, as `FeedReader.recent` would settle it: no miss
        to read and filter, and either enough items or sources used up within their caps (past
        a cap the reader continues from MongoDB)."""
        if any(c is None for _, c in self.entries):
            return False
        return len(self.entries) >= want or (self.exhausted and not self.truncated)


async def candidate_page(
    stores: Stores,
    viewer: ObjectId,
    want: int,
    bound: Position | None,
    *,
    slack: int,
    max_passes: int,
    hybrid: bool,
) -> CandidatePage | str:
    """`recent_page`'s items as ranking candidates, for a RANKED window: the script sends
    each hit's ranking fields rather than its document (a whole document only when its lead
    predates them). Returns the reason to take the Python path, like `recent_page`."""
    posts = post_cache(stores)
    reply = await _run(
        stores,
        viewer,
        want,
        bound,
        slack=slack,
        max_passes=max_passes,
        hybrid=hybrid,
        candidates=True,
    )
    if text(reply[0]) != "ok":
        return text(reply[1])
    _, raw_entries, _, flags, _ = reply
    entries: list[tuple[Position, Candidate | None]] = []
    for i in range(0, len(raw_entries), 3):
        member, score, raw = raw_entries[i : i + 3]
        post_id = text(member)
        candidate: Candidate | None = None
        if raw[:1] == b"{":
            doc = posts.decode(raw)
            candidate = candidate_of(doc) if doc is not None else None
        elif raw:
            author, published, likes, comments = text(raw).split(",")
            candidate = Candidate(
                post_id, author, entry_time(int(published)), int(likes), int(comments)
            )
        entries.append(((int(float(score)), post_id), candidate))
    posts.observe(sum(1 for _, c in entries if c is not None), 0)
    exhausted, truncated, _ = _flags(flags)
    return CandidatePage(entries, exhausted, truncated)
