"""Reading a feed page: RECENT (newest first) or RANKED, for the push, pull or hybrid strategy.

RECENT merges the viewer's timeline (push) with the authored sets of followed celebrities (pull),
or, under `pull`, the authored sets of everyone followed. The cursor is the last item's
(score, post id), so new posts arriving at the top never shift a page: paging never repeats or
skips. When Redis runs out (timelines are capped) paging continues from MongoDB. When Redis is
down the whole page comes from MongoDB and says so in `extensions`.

A warm RECENT page under push or hybrid is one Redis round trip: feed/recent_page_lua.py
records the read, checks the viewer's following set, merges the sources, filters and returns the
page's post and author documents (feed/recent_script.py). Anything unusual (a stale following
set, an unbuilt timeline or authored set, cache misses, the end of the cached window) continues
on the Python path below, which costs a fixed number of round trips whatever the page size, and
MongoDB only for cache misses.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from bson import ObjectId
from redis.exceptions import RedisError, ResponseError

from core.cursor import cursor_codec
from core.errors import BadInput
from core.pagination import LazyCursors, Page
from datastore import posts
from datastore.activity import queue_record, record_activity
from datastore.doc_cache import post_cache, user_cache
from datastore.graph import (
    ensure_graph_cache,
    follow_scores,
    followee_ids_from_mongo,
    following_ids,
    graph_key,
)
from datastore.outages import REDIS_OUTAGE
from datastore.posts import READY
from datastore.stores import Stores
from feed.keys import FeedKeys, score_at, score_of
from feed.ranked_degraded import ranked_from_mongo
from feed.ranked_script import NEW, SnapshotPage, snapshot_page
from feed.ranking import Candidate, candidate_of, rank
from feed.rebuild import ensure_authored, rebuild_timeline
from feed.recent_script import (
    VIEWER_NOT_CACHED,
    CandidatePage,
    FastPage,
    candidate_page,
    recent_page,
)
from feed.timelines import Timelines

log = logging.getLogger(__name__)

RECENT_CURSOR = "feed"
RANKED_CURSOR = "feed-ranked"
# Extra items fetched per source beyond the page, so items filtered out at hydration (deleted,
# unfollowed since) rarely cost a second pass.
SLACK = 16
MAX_PASSES = 4
RANK_WINDOW = 200
SNAPSHOT_TTL_SECONDS = 1800
# A first RANKED page reuses the viewer's newest snapshot this long, unless their timeline has
# changed since (Timelines deletes the pointer): ranking a window reads and scores 200 posts,
# and a feed refreshed within the minute would get the same order back anyway. A celebrity's
# new post (pulled, not pushed) or new likes show up in the ranking after at most this long;
# RECENT has them at once.
RANKED_REUSE_SECONDS = 60

Position = tuple[int, str]  # (score, post id hex); order is descending on both


@dataclass(slots=True)
class _Scan:
    """What the Redis pass found below a position."""

    docs: list[dict]
    exhausted: bool  # every source returned fewer than asked
    truncated: bool  # some source is at its cap, so MongoDB may hold older items
    last: Position | None  # the lowest position examined


@dataclass(slots=True)
class FeedPage(Page[dict]):
    """A feed page plus what came with it: the authors of its posts (id -> document, None for
    an author that is gone), so the API layer needs no second read for them, and whether the
    viewer's activity was recorded on the way (datastore/activity.py)."""

    authors: dict[ObjectId, dict | None] = field(default_factory=dict)
    activity_recorded: bool = False


@dataclass(slots=True)
class _Found:
    docs: list[dict]
    authors: dict[ObjectId, dict | None]
    has_next: bool
    activity_recorded: bool


def _below(pos: Position, bound: Position | None) -> bool:
    return bound is None or pos < bound


class FeedReader:
    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.settings = stores.settings
        self.codec = cursor_codec(stores.settings)
        self.keys = FeedKeys(stores)
        self.timelines = Timelines(stores)

    # --- RECENT --------------------------------------------------------------------------
    async def recent(
        self, viewer: ObjectId, first: int, after: str | None, *, with_authors: bool = True
    ) -> FeedPage:
        bound = self._decode_recent(after)
        try:
            found = await self._recent_from_redis(viewer, first, bound)
            extensions: dict[str, object] = {}
        except RedisError:
            docs, has_next = await self._recent_from_mongo(viewer, first, bound)
            found = _Found(docs, {}, has_next, False)
            extensions = {
                "feed": {
                    "degraded": True,
                    "source": "mongodb",
                    "reason": "timeline cache unavailable",
                }
            }
        docs = found.docs
        cursors = LazyCursors(
            partial(self.codec.encode, RECENT_CURSOR), [[score_of(d), str(d["_id"])] for d in docs]
        )
        authors = await self._authors(docs, found.authors) if with_authors else {}
        return FeedPage(docs, cursors, found.has_next, extensions, authors, found.activity_recorded)

    async def _authors(
        self, docs: list[dict], known: dict[ObjectId, dict | None]
    ) -> dict[ObjectId, dict | None]:
        """The page's authors: those the script brought, the rest through the user cache (one
        MGET; MongoDB for misses, or for all when Redis is down)."""
        missing = list(dict.fromkeys(d["author_id"] for d in docs if d["author_id"] not in known))
        if not missing:
            return {d["author_id"]: known[d["author_id"]] for d in docs}
        fetched = await user_cache(self.stores).get_many(missing)
        every = {**known, **dict(zip(missing, fetched, strict=True))}
        return {d["author_id"]: every.get(d["author_id"]) for d in docs}

    def _decode_recent(self, after: str | None) -> Position | None:
        return self.codec.decode_position(RECENT_CURSOR, after) if after else None

    async def _sources(self, viewer: ObjectId) -> tuple[list[str], set[ObjectId] | None]:
        """The zsets a RECENT page merges, and under `pull` the set of allowed authors (else
        None: authors are checked per page with one ZMSCORE, which spares a viewer following
        1,000 accounts reading all of them on every page).

        Push and hybrid ask everything in one pipeline: record the read (fan-out skips
        inactive users), the size of the viewer's `following` set (checked against their
        counter), whether their timeline was built, and which followees are celebrities (a
        ZINTER of `following` and `celebs`)."""
        stores, keys = self.stores, self.keys
        if self.settings.feed_strategy == "pull":
            await record_activity(stores, viewer)
            following = await following_ids(stores, viewer)
            authors = [*following, viewer]
            await ensure_authored(stores, authors)
            return [keys.authored(a) for a in authors], {*following, viewer}
        hybrid = self.settings.feed_strategy == "hybrid"
        following_key = graph_key(stores, "following", viewer)
        async with stores.redis.pipeline(transaction=False) as pipe:
            queue_record(pipe, stores, viewer)
            pipe.zcard(following_key)
            pipe.exists(keys.timeline_built(viewer))
            if hybrid:
                pipe.zinter([following_key, keys.celebrities()])
            replies = await pipe.execute()
        card, built = replies[2], replies[3]
        celebs = replies[4] if hybrid else []
        viewer_doc = (await user_cache(stores).get_many([viewer]))[0]
        if viewer_doc is None or int(viewer_doc.get("following_count", 0)) != card:
            # The set may be stale: verify it against MongoDB (rebuilding it if needed).
            await ensure_graph_cache(stores, "following", viewer)
            if hybrid:
                celebs = await stores.redis.zinter([following_key, keys.celebrities()])
        if not built:
            await rebuild_timeline(stores, viewer)
        sources = [keys.timeline(viewer)]
        if celebs:
            authors = [ObjectId(c) for c in celebs]
            await ensure_authored(stores, authors)
            sources += [keys.authored(a) for a in authors]
        return sources, None

    async def _recent_from_redis(
        self, viewer: ObjectId, first: int, bound: Position | None
    ) -> _Found:
        want = first + 1
        found: list[dict] = []
        authors: dict[ObjectId, dict | None] = {}
        fast: FastPage | str | None = None
        if self.settings.feed_strategy != "pull":
            fast = await self._run_script(viewer, want, bound)
            if fast == VIEWER_NOT_CACHED:
                # The common cold case (the viewer's document is dropped on each write to it,
                # the activity flush included): read it into the cache and run the script
                # again, cheaper than the whole Python path.
                await user_cache(self.stores).get_many([viewer])
                fast = await self._run_script(viewer, want, bound)
        if isinstance(fast, FastPage):
            found = await self._settle(viewer, fast)
            authors = dict(fast.authors)
            scan = _Scan([], fast.exhausted, fast.truncated, fast.last)
            sources = [self.keys.timeline(viewer), *map(self.keys.authored, fast.celebrities)]
            allowed = None
            passes = 0 if len(found) >= want or scan.exhausted else MAX_PASSES
        else:
            # `fast` is the script's reason to step aside (or None under pull): the Python
            # path repairs what needs repairing (and records the read again, harmlessly).
            sources, allowed = await self._sources(viewer)
            scan = _Scan([], False, False, bound)
            passes = MAX_PASSES
        for _ in range(passes):
            scan = await self._scan(sources, want - len(found) + SLACK, scan.last)
            found += await self._visible(viewer, scan.docs, allowed)
            if len(found) >= want or scan.exhausted:
                break
        if len(found) < want and scan.exhausted and scan.truncated:
            # Past the cached window: continue from MongoDB, below the last item examined.
            more, _ = await self._recent_from_mongo(viewer, want - len(found), scan.last)
            found += more
        return _Found(found[:first], authors, len(found) > first, True)

    async def _run_script(
        self, viewer: ObjectId, want: int, bound: Position | None
    ) -> FastPage | str | None:
        try:
            return await recent_page(
                self.stores,
                viewer,
                want,
                bound,
                slack=SLACK,
                max_passes=MAX_PASSES,
                hybrid=self.settings.feed_strategy == "hybrid",
            )
        except ResponseError as exc:
            # The script failed (a bug, a key of the wrong type): Redis itself answers, so the
            # Python path serves the page rather than sending everyone to MongoDB.
            log.error("feed page script failed, using the Python path: %s", exc)
            return None

    async def _settle(self, viewer: ObjectId, fast: FastPage) -> list[dict]:
        """The script's entries as documents: hits as they are (already filtered in Redis),
        misses read through the post cache (MongoDB for those alone) and filtered here."""
        missing = [pos for pos, doc in fast.entries if doc is None]
        if not missing:
            return [doc for _, doc in fast.entries if doc is not None]
        fetched = await post_cache(self.stores).get_many([ObjectId(m) for _, m in missing])
        read = await self._visible(viewer, [d for d in fetched if d is not None], None)
        by_id = {str(d["_id"]): d for d in read}
        out = []
        for (_, member), doc in fast.entries:
            doc = doc if doc is not None else by_id.get(member)
            if doc is not None:
                out.append(doc)
        return out

    async def _visible(
        self, viewer: ObjectId, docs: list[dict], allowed: set[ObjectId] | None
    ) -> list[dict]:
        """READY posts by the viewer or someone they follow now: a timeline may still hold
        posts of an account unfollowed since."""
        docs = [d for d in docs if d.get("status") == READY]
        if allowed is None:
            others = list({d["author_id"] for d in docs} - {viewer})
            followed = await follow_scores(self.stores, "following", viewer, others)
            allowed = {viewer, *(a for a, ok in zip(others, followed, strict=True) if ok)}
        return [d for d in docs if d["author_id"] in allowed]

    async def _scan(self, sources: list[str], per_source: int, bound: Position | None) -> _Scan:
        max_score = "+inf" if bound is None else bound[0]
        async with self.stores.redis.pipeline(transaction=False) as pipe:
            for key in sources:
                pipe.zrevrangebyscore(
                    key, max_score, "-inf", start=0, num=per_source, withscores=True
                )
                pipe.zcard(key)
            replies = await pipe.execute()
        merged: dict[str, int] = {}
        exhausted, truncated = True, False
        for i in range(0, len(replies), 2):
            rows, size = replies[i], replies[i + 1]
            if len(rows) >= per_source:
                exhausted = False
            if size >= self.settings.timeline_cap:
                truncated = True
            for member, score in rows:
                merged[member] = int(score)
        positions = sorted(
            ((s, m) for m, s in merged.items() if _below((s, m), bound)), reverse=True
        )[:per_source]
        if not positions:
            return _Scan([], exhausted, truncated, bound)
        docs = await post_cache(self.stores).get_many([ObjectId(m) for _, m in positions])
        return _Scan([d for d in docs if d is not None], exhausted, truncated, positions[-1])

    async def _recent_from_mongo(
        self, viewer: ObjectId, limit_items: int, bound: Position | None
    ) -> tuple[list[dict], bool]:
        """The pull model straight from MongoDB: used past the cached window and when Redis is
        down. Returns up to `limit_items` items and whether more exist."""
        following = await followee_ids_from_mongo(self.stores, viewer)
        docs = await posts.newest_ready(
            self.stores, [*following, viewer], limit_items + 1, below=bound
        )
        return docs[:limit_items], len(docs) > limit_items

    # --- RANKED --------------------------------------------------------------------------
    async def ranked(self, viewer: ObjectId, first: int, after: str | None) -> FeedPage:
        try:
            return await self._ranked(viewer, first, after)
        except REDIS_OUTAGE:
            return await ranked_from_mongo(self, viewer, first, after, RANK_WINDOW)

    async def _ranked(self, viewer: ObjectId, first: int, after: str | None) -> FeedPage:
        """Rank a window of the newest RANK_WINDOW items once, keep the order in a snapshot the
        cursor names, and page through it; when it runs out, rank the next window into the
        same snapshot. Windows are disjoint, so no item appears twice. A page of a snapshot
        that exists (a later page, or a first page reusing the viewer's newest) is one round
        trip (feed/ranked_script.py); cache misses add a read for those alone."""
        if after:
            payload = self.codec.decode(RANKED_CURSOR, after)
            if not (isinstance(payload, list) and len(payload) == 2):
                raise BadInput("Malformed cursor", argument="after")
            snapshot: str | None = str(payload[0])
            offset = int(payload[1])
        else:
            snapshot, offset = None, 0
        recorded = snapshot is None
        page = await snapshot_page(self.stores, viewer, snapshot, offset, first)
        if page == NEW:
            snapshot = uuid.uuid4().hex[:16]
            recorded = await self._extend_snapshot(viewer, snapshot, None, latest=True)
            page = await snapshot_page(self.stores, viewer, snapshot, offset, first)
        if not isinstance(page, SnapshotPage):
            # The meta hash exists for every live snapshot, even one with no items.
            raise BadInput(
                "This cursor has expired; start again from the first page", argument="after"
            )
        if len(page.ids) <= first and page.next_window:
            await self._extend_snapshot(viewer, page.snapshot, page.next_window)
            page = await snapshot_page(self.stores, viewer, page.snapshot, offset, first)
            if not isinstance(page, SnapshotPage):
                raise BadInput(
                    "This cursor has expired; start again from the first page", argument="after"
                )
        has_next = len(page.ids) > first
        docs = page.docs
        missing = [ObjectId(i) for i, doc in zip(page.ids, docs, strict=False) if doc is None]
        if missing:
            fetched = iter(await post_cache(self.stores).get_many(missing))
            docs = [doc if doc is not None else next(fetched) for doc in docs]
        items, positions = [], []
        for i, doc in enumerate(docs):
            if doc is not None and doc.get("status") == READY:
                items.append(doc)
                positions.append([page.snapshot, offset + i + 1])
        authors = await self._authors(items, dict(page.authors))
        cursors = LazyCursors(partial(self.codec.encode, RANKED_CURSOR), positions)
        return FeedPage(items, cursors, has_next, {}, authors, recorded)

    async def _extend_snapshot(
        self, viewer: ObjectId, snapshot: str, after: str | None, latest: bool = False
    ) -> bool:
        """Rank the next window into the snapshot (and, for a new first page, make it the one
        later first pages reuse); returns whether the read recorded activity."""
        candidates, next_window, recorded = await self._window(viewer, after)
        affinity = {
            k: int(v)
            for k, v in (await self.stores.redis.hgetall(self.keys.affinity(viewer))).items()
        }
        order = rank(candidates, datetime.now(UTC), affinity)
        key = self.keys.ranked_snapshot(viewer, snapshot)
        async with self.stores.redis.pipeline(transaction=False) as pipe:
            if order:
                pipe.rpush(key, *order)
            pipe.hset(key + ":meta", "next", next_window)
            pipe.expire(key, SNAPSHOT_TTL_SECONDS)
            pipe.expire(key + ":meta", SNAPSHOT_TTL_SECONDS)
            if latest:
                pipe.set(self.keys.ranked_latest(viewer), snapshot, ex=RANKED_REUSE_SECONDS)
            await pipe.execute()
        return recorded

    async def _candidates(
        self, viewer: ObjectId, want: int, bound: Position | None
    ) -> CandidatePage | str:
        return await candidate_page(
            self.stores,
            viewer,
            want,
            bound,
            slack=SLACK,
            max_passes=MAX_PASSES,
            hybrid=self.settings.feed_strategy == "hybrid",
        )

    async def _window(
        self, viewer: ObjectId, after: str | None
    ) -> tuple[list[Candidate], str, bool]:
        """The RANK_WINDOW items of the RECENT feed below `after` as ranking candidates, the
        RECENT cursor after them ("" at the end) and whether the read recorded activity.

        The script's candidate form carries each post's ranking fields, not its document
        (decoding 200 documents was most of a new snapshot's cost); whenever that answer is
        not the whole window (a cache miss, a fallback, the cached window's end) the window is
        read as a RECENT page, which settles those cases, so both give the same window."""
        want = RANK_WINDOW + 1
        page: CandidatePage | str | None = None
        if self.settings.feed_strategy != "pull":
            bound = self._decode_recent(after)
            try:
                page = await self._candidates(viewer, want, bound)
                if page == VIEWER_NOT_CACHED:
                    await user_cache(self.stores).get_many([viewer])
                    page = await self._candidates(viewer, want, bound)
            except ResponseError as exc:
                log.error("feed page script failed, using the Python path: %s", exc)
        import sys

        print(
            "PAGE",
            page
            if isinstance(page, str)
            else (
                len(page.entries),
                page.exhausted,
                page.truncated,
                [c is None for _, c in page.entries],
            ),
            file=sys.stderr,
        )
        if isinstance(page, CandidatePage) and page.settled(want):
            entries = page.entries[:RANK_WINDOW]
            candidates = [c for _, c in entries if c is not None]
            next_window = ""
            if len(page.entries) > RANK_WINDOW:
                last = candidates[-1]
                next_window = self.codec.encode(
                    RECENT_CURSOR, [score_at(last.published_at), last.post_id]
                )
            return candidates, next_window, True
        window = await self.recent(viewer, RANK_WINDOW, after, with_authors=False)
        next_window = window.cursors[-1] if window.has_next else ""
        return list(map(candidate_of, window.items)), next_window, window.activity_recorded
