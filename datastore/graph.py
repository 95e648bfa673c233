"""The social graph: follows, follow requests and blocks in MongoDB, mirrored in Redis.

MongoDB is the source of truth (docs/data-model.md). Redis holds what hot paths read:
  followers:{user}  zset member=follower hex, score=follow time (ms)  followers page, fan-out
  following:{user}  zset member=followee hex, score=follow time (ms)  following page, checks
  blockrel:{user}   set of users with a block either way, plus the member "-" meaning "built"

Why Redis: FerretDB pushes only `_id` equality down to SQLite, so "followers of X, newest first"
would scan the follows collection. A zset page is ZREVRANGEBYSCORE. The zsets are checked
against the exact counters on the user document (ZCARD must equal follower_count /
following_count); a missing or drifted zset is rebuilt from MongoDB, so losing Redis loses
nothing. Edge documents use `pair_id` as `_id`, so existence checks are primary-key reads and a
repeated insert fails atomically.

Shard keys for a sharded MongoDB cluster:
  follows          {follower_id: 1, followee_id: 1}  the unique edge index has the shard key as
                   its prefix; "whom X follows" is one shard's range read. "Who follows X" is
                   served by the followers zset (the design doc's user_follows read by followee);
                   at larger scale a second edge copy sharded by followee_id replaces the scan.
  follow_requests  {target_id: 1, requester_id: 1}   the owner's pending list is one range read.
  blocks           {blocker_id: 1, blocked_id: 1}    checks go through blockrel sets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from core.cursor import cursor_codec
from core.pagination import Page
from datastore.accounts import UserDoc, move_counters, pair_id, user_counter
from datastore.dirty import mark_dirty
from datastore.doc_cache import user_cache
from datastore.mongo import register_indexes
from datastore.outages import REDIS_OUTAGE, note_degraded, unavailable
from datastore.query_shapes import query
from datastore.stores import Stores

log = logging.getLogger(__name__)

GraphKind = Literal["followers", "following"]
_COUNT_FIELD: dict[str, str] = {"followers": "follower_count", "following": "following_count"}
_BUILT = "-"  # marker member of blockrel sets: the set reflects MongoDB
_REBUILD_LOCK_SECONDS = 10

register_indexes(
    "follows",
    [
        IndexModel(
            [("follower_id", ASCENDING), ("followee_id", ASCENDING)],
            unique=True,
            name="edge_unique",
        ),
        # followers of X newest first; following of X newest first (rebuilds, real MongoDB)
        IndexModel([("followee_id", ASCENDING), ("created_at", DESCENDING)], name="followers"),
        IndexModel([("follower_id", ASCENDING), ("created_at", DESCENDING)], name="following"),
    ],
)
register_indexes(
    "follow_requests",
    [
        IndexModel(
            [("requester_id", ASCENDING), ("target_id", ASCENDING)],
            unique=True,
            name="request_unique",
        ),
        IndexModel(
            [("target_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="pending_for_target",
        ),
    ],
)
register_indexes(
    "blocks",
    [
        IndexModel(
            [("blocker_id", ASCENDING), ("blocked_id", ASCENDING)],
            unique=True,
            name="block_unique",
        ),
        IndexModel([("blocked_id", ASCENDING)], name="blocked"),
    ],
)
# Existence checks and deletes go by `pair_id`, i.e. `_id`; these are the other reads.
_FOLLOWERS_OF = query("follows", "followers_of", equality=["followee_id"])
_FOLLOWING_OF = query("follows", "following_of", equality=["follower_id"])
query(
    "follow_requests",
    "pending_for_target",
    equality=["target_id"],
    sort=[("created_at", DESCENDING), ("_id", DESCENDING)],
)
query("follow_requests", "all_for_target", equality=["target_id"], sort=[("created_at", ASCENDING)])
# The block set is rebuilt from both directions: an `$or` of one shape per branch.
query("blocks", "blocks_by", equality=["blocker_id"])
query("blocks", "blocks_of", equality=["blocked_id"])


class FollowDoc(TypedDict):
    _id: ObjectId  # pair_id("follow", follower_id, followee_id)
    follower_id: ObjectId
    followee_id: ObjectId
    created_at: datetime


class FollowRequestDoc(TypedDict):
    _id: ObjectId  # pair_id("follow_request", requester_id, target_id)
    requester_id: ObjectId
    target_id: ObjectId
    created_at: datetime


class BlockDoc(TypedDict):
    _id: ObjectId  # pair_id("block", blocker_id, blocked_id)
    blocker_id: ObjectId
    blocked_id: ObjectId
    created_at: datetime


def now_ms_precision() -> datetime:
    """Now, truncated to what MongoDB stores (ms), so zset scores match rebuilt ones."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def score_of(when: datetime) -> float:
    return float(round(when.timestamp() * 1000))


def graph_key(stores: Stores, kind: GraphKind, user_id: ObjectId) -> str:
    """The `kind` zset of `user_id`, for readers that batch it into their own pipeline (the
    feed reader); call `ensure_graph_cache` when its size disagrees with the user's counter."""
    return stores.keys(kind, user_id)


# --- edges ---------------------------------------------------------------------------------


async def _insert_edge(
    stores: Stores, collection: str, kind: str, fields: dict[str, ObjectId], created: datetime
) -> bool:
    """Insert the edge document whose `_id` is `pair_id(kind, *fields.values())`. Returns
    whether this call inserted it (False: it already existed), so callers move counters and
    caches only for edges they created."""
    a, b = fields.values()
    doc = {"_id": pair_id(kind, a, b), **fields, "created_at": created}
    try:
        await stores.backend.insert_one(collection, doc)
    except DuplicateKeyError:
        return False
    return True


# --- follows -------------------------------------------------------------------------------


async def create_follow(
    stores: Stores, follower: ObjectId, followee: ObjectId, *, now: datetime | None = None
) -> bool:
    """Record `follower` -> `followee`. Returns False (and changes nothing) if it existed.
    Counters move only when this call inserted the edge, so they stay exact."""
    created = now or now_ms_precision()
    fields = {"follower_id": follower, "followee_id": followee}
    await mark_dirty(stores, {"users": [follower, followee]})
    if not await _insert_edge(stores, "follows", "follow", fields, created):
        return False
    await asyncio.gather(
        move_counters(stores, follower, {"following_count": 1}),
        move_counters(stores, followee, {"follower_count": 1}),
    )
    score = score_of(created)
    try:
        async with stores.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(graph_key(stores, "followers", followee), {str(follower): score})
            pipe.zadd(graph_key(stores, "following", follower), {str(followee): score})
            await pipe.execute()
    except REDIS_OUTAGE as exc:
        # repair: the zsets' ZCARD now differs from the counters, so their next reader
        # (ensure_graph_cache) rebuilds them from MongoDB.
        log.warning("follow %s -> %s not mirrored (Redis down): %s", follower, followee, exc)
    return True


async def follow_exists(stores: Stores, follower: ObjectId, followee: ObjectId) -> bool:
    """A primary-key read of the edge (every edge is written with its `pair_id`)."""
    found = await stores.db.follows.find_one(
        {"_id": pair_id("follow", follower, followee)}, projection={"_id": 1}
    )
    return found is not None


async def remove_follow(stores: Stores, follower: ObjectId, followee: ObjectId) -> bool:
    """Delete the edge if present. Returns whether this call deleted it."""
    edge_id = pair_id("follow", follower, followee)
    await mark_dirty(stores, {"users": [follower, followee]})
    deleted = await stores.backend.delete_one("follows", {"_id": edge_id})
    if not deleted:
        return False
    await asyncio.gather(
        move_counters(stores, follower, {"following_count": -1}),
        move_counters(stores, followee, {"follower_count": -1}),
    )
    async with stores.redis.pipeline(transaction=False) as pipe:
        pipe.zrem(graph_key(stores, "followers", followee), str(follower))
        pipe.zrem(graph_key(stores, "following", follower), str(followee))
        await pipe.execute()
    return True


async def _rebuild_zset(stores: Stores, kind: GraphKind, user_id: ObjectId) -> None:
    shape = _FOLLOWERS_OF if kind == "followers" else _FOLLOWING_OF
    field = shape.equality[0]
    other = "follower_id" if kind == "followers" else "followee_id"
    members = {
        str(doc[other]): score_of(doc["created_at"])
        async for doc in stores.db.follows.find(
            {field: user_id}, projection={other: 1, "created_at": 1}
        )
    }
    key = graph_key(stores, kind, user_id)
    # DEL and ZADD in one MULTI, so readers never see a half-built set.
    async with stores.redis.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        if members:
            pipe.zadd(key, members)
        await pipe.execute()


async def rebuild_graph_cache(stores: Stores, user_id: ObjectId) -> None:
    """Rebuild the user's followers and following zsets (and block set) from MongoDB."""
    await asyncio.gather(
        _rebuild_zset(stores, "followers", user_id),
        _rebuild_zset(stores, "following", user_id),
        _rebuild_block_set(stores, user_id),
    )


async def ensure_graph_cache(
    stores: Stores, kind: GraphKind, user_id: ObjectId, expected: int | None = None
) -> None:
    """Make `kind:{user}` agree with MongoDB: compare its ZCARD with the user's exact counter
    (from `expected` when the caller has the document) and rebuild on a mismatch that persists
    after re-reading the counter (a follow between the two writes is a transient mismatch)."""
    key = graph_key(stores, kind, user_id)
    card = await stores.redis.zcard(key)
    if expected is None:
        # The cached user document (dropped on every counter write) answers the common case
        # without a MongoDB read; a mismatch is re-checked against MongoDB below.
        cached = (await user_cache(stores).get_many([user_id]))[0]
        expected = None if cached is None else int(cached.get(_COUNT_FIELD[kind], 0))
    if expected is not None and card == expected:
        return
    fresh = await user_counter(stores, user_id, _COUNT_FIELD[kind])
    if fresh is None or card == fresh:
        return
    # One rebuild at a time per set; others read the set as it is meanwhile.
    lock_key = stores.keys("rebuild", kind, user_id)
    if await stores.redis.set(lock_key, "1", nx=True, ex=_REBUILD_LOCK_SECONDS):
        try:
            log.info("rebuilding %s of %s (zset %d, counter %d)", kind, user_id, card, fresh)
            await _rebuild_zset(stores, kind, user_id)
        finally:
            await stores.redis.delete(lock_key)


async def _all_ids(
    stores: Stores,
    kind: GraphKind,
    user_id: ObjectId,
    expected: int | None = None,
    *,
    verify: bool = True,
) -> list[ObjectId]:
    key = graph_key(stores, kind, user_id)
    if verify or not await stores.redis.exists(key):
        await ensure_graph_cache(stores, kind, user_id, expected)
    members = await stores.redis.zrevrange(key, 0, -1)
    return [ObjectId(m) for m in members]


async def follower_ids(
    stores: Stores, user_id: ObjectId, expected: int | None = None, *, verify: bool = True
) -> list[ObjectId]:
    """Every follower of `user_id`, newest first (for fan-out). `expected`: the user's
    follower_count when the caller has the document (saves reading it). `verify=False` takes
    the set as it is when it exists, without comparing it with the counter (which costs a
    MongoDB read of the user when the cached document is gone: the fan-out job's case)."""
    return await _all_ids(stores, "followers", user_id, expected, verify=verify)


async def follower_count(stores: Stores, user_id: ObjectId) -> int:
    """The size of `user_id`'s follower set: Redis only, unless the set was never built (or was
    lost), which `ensure_graph_cache` repairs from MongoDB first."""
    key = graph_key(stores, "followers", user_id)
    try:
        if not await stores.redis.exists(key):
            await ensure_graph_cache(stores, "followers", user_id)
        return int(await stores.redis.zcard(key))
    except REDIS_OUTAGE:
        note_degraded("graph")
        return int(await user_counter(stores, user_id, "follower_count") or 0)


async def following_ids(stores: Stores, user_id: ObjectId) -> list[ObjectId]:
    """Everyone `user_id` follows, newest first (from MongoDB, in no order, when Redis is
    down)."""
    try:
        return await _all_ids(stores, "following", user_id)
    except REDIS_OUTAGE:
        note_degraded("graph")
        return await followee_ids_from_mongo(stores, user_id)


async def followee_ids_from_mongo(stores: Stores, user_id: ObjectId) -> list[ObjectId]:
    """Everyone `user_id` follows, read from MongoDB alone: for when Redis is down."""
    cursor = stores.db.follows.find(
        {_FOLLOWING_OF.equality[0]: user_id}, projection={"followee_id": 1}
    )
    return [f["followee_id"] async for f in cursor]


async def graph_page(
    stores: Stores, owner: UserDoc, kind: GraphKind, first: int, after: str | None
) -> Page[ObjectId]:
    """One page of `owner`'s followers or following, newest first.

    The cursor is the last row's (score, member): the next page starts strictly below it in
    (score desc, member desc) order, so follows and unfollows elsewhere in the list neither
    repeat nor skip rows already paged past."""
    await ensure_graph_cache(stores, kind, owner["_id"], int(owner.get(_COUNT_FIELD[kind], 0)))
    key = graph_key(stores, kind, owner["_id"])
    if first == 0:
        return Page([], [], False)
    if after is None:
        rows = await stores.redis.zrevrangebyscore(
            key, "+inf", "-inf", start=0, num=first + 1, withscores=True
        )
    else:
        payload = cursor_codec(stores.settings).decode(kind, after)
        try:
            score, member = float(payload[0]), str(payload[1])
        except (TypeError, ValueError, IndexError, KeyError):
            from core.errors import BadInput

            raise BadInput("Malformed cursor", argument="after") from None
        # Equal scores come out in descending member order: skip those at or above the cursor.
        ties = await stores.redis.zrangebyscore(key, score, score)
        skip = sum(1 for m in ties if m >= member)
        rows = await stores.redis.zrevrangebyscore(
            key, score, "-inf", start=skip, num=first + 1, withscores=True
        )
    has_next = len(rows) > first
    rows = rows[:first]
    cursors = cursor_codec(stores.settings)
    return Page(
        [ObjectId(m) for m, _ in rows],
        [cursors.encode(kind, [s, m]) for m, s in rows],
        has_next,
    )


async def follow_scores(
    stores: Stores, kind: GraphKind, user_id: ObjectId, others: Sequence[ObjectId]
) -> list[bool]:
    """For each of `others`: is it in `kind:{user_id}`? One ZMSCORE. Callers that need the set
    verified call `ensure_graph_cache` first."""
    if not others:
        return []
    try:
        scores = await stores.redis.zmscore(
            graph_key(stores, kind, user_id), [str(o) for o in others]
        )
    except REDIS_OUTAGE:
        note_degraded("graph")
        return await _edges_exist(stores, kind, user_id, others)
    return [s is not None for s in scores]


async def _edges_exist(
    stores: Stores, kind: GraphKind, user_id: ObjectId, others: Sequence[ObjectId]
) -> list[bool]:
    """`follow_scores` from MongoDB alone (Redis down): primary-key reads of the edges."""
    ids = [
        pair_id("follow", user_id, o) if kind == "following" else pair_id("follow", o, user_id)
        for o in others
    ]
    found = {d["_id"] for d in await stores.backend.find_by_ids("follows", ids)}
    return [i in found for i in ids]


async def is_following(stores: Stores, follower: ObjectId, followee: UserDoc | ObjectId) -> bool:
    """Does `follower` follow `followee` (a user document, or an id)? Read from the followee's
    followers zset, verified against its counter."""
    if isinstance(followee, dict):
        followee_id, expected = followee["_id"], int(followee.get("follower_count", 0))
    else:
        followee_id, expected = followee, None
    try:
        await ensure_graph_cache(stores, "followers", followee_id, expected)
        score = await stores.redis.zscore(
            graph_key(stores, "followers", followee_id), str(follower)
        )
    except REDIS_OUTAGE:
        note_degraded("graph")
        return await follow_exists(stores, follower, followee_id)
    return score is not None


# --- follow requests -----------------------------------------------------------------------


async def create_request(stores: Stores, requester: ObjectId, target: ObjectId) -> bool:
    fields = {"requester_id": requester, "target_id": target}
    return await _insert_edge(
        stores, "follow_requests", "follow_request", fields, now_ms_precision()
    )


async def remove_request(stores: Stores, requester: ObjectId, target: ObjectId) -> bool:
    request_id = pair_id("follow_request", requester, target)
    return await stores.backend.delete_one("follow_requests", {"_id": request_id})


async def request_exists(stores: Stores, requester: ObjectId, target: ObjectId) -> bool:
    found = await stores.db.follow_requests.find_one(
        {"_id": pair_id("follow_request", requester, target)}, projection={"_id": 1}
    )
    return found is not None


async def requests_page(
    stores: Stores, target: ObjectId, first: int, after: str | None
) -> Page[ObjectId]:
    """Pending requests to `target`, newest first; items are requester ids."""
    query: dict = {"target_id": target}
    if after is not None:
        payload = cursor_codec(stores.settings).decode("followRequests", after)
        try:
            when = datetime.fromtimestamp(float(payload[0]) / 1000, UTC)
            last = ObjectId(payload[1])
        except (TypeError, ValueError, IndexError, KeyError):
            from core.errors import BadInput

            raise BadInput("Malformed cursor", argument="after") from None
        query["$or"] = [
            {"created_at": {"$lt": when}},
            {"created_at": when, "_id": {"$lt": last}},
        ]
    docs = [
        d
        async for d in stores.db.follow_requests.find(query)
        .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        .limit(first + 1)
    ]
    has_next = len(docs) > first
    docs = docs[:first]
    cursors = cursor_codec(stores.settings)
    return Page(
        [d["requester_id"] for d in docs],
        [
            cursors.encode("followRequests", [score_of(d["created_at"]), str(d["_id"])])
            for d in docs
        ],
        has_next,
    )


async def all_request_ids(stores: Stores, target: ObjectId) -> list[ObjectId]:
    return [
        d["requester_id"]
        async for d in stores.db.follow_requests.find(
            {"target_id": target}, projection={"requester_id": 1}
        ).sort("created_at", ASCENDING)
    ]


# --- blocks --------------------------------------------------------------------------------


def _block_key(stores: Stores, user_id: ObjectId) -> str:
    return stores.keys("blockrel", user_id)


async def _rebuild_block_set(stores: Stores, user_id: ObjectId) -> None:
    others: set[str] = set()
    async for doc in stores.db.blocks.find(
        {"$or": [{"blocker_id": user_id}, {"blocked_id": user_id}]},
        projection={"blocker_id": 1, "blocked_id": 1},
    ):
        other = doc["blocked_id"] if doc["blocker_id"] == user_id else doc["blocker_id"]
        others.add(str(other))
    # A union, not a replace: a block recorded while this ran is kept. A stale member can only
    # make the check fail closed (hide content) until the next rebuild_graph_cache.
    await stores.redis.sadd(_block_key(stores, user_id), _BUILT, *others)


async def create_block(stores: Stores, blocker: ObjectId, blocked: ObjectId) -> bool:
    fields = {"blocker_id": blocker, "blocked_id": blocked}
    if not await _insert_edge(stores, "blocks", "block", fields, now_ms_precision()):
        return False
    try:
        async with stores.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(_block_key(stores, blocker), str(blocked))
            pipe.sadd(_block_key(stores, blocked), str(blocker))
            await pipe.execute()
    except REDIS_OUTAGE as exc:
        # A block the sets miss would fail open once Redis is back with them: take it back,
        # and the client retries (SERVICE_UNAVAILABLE) once Redis answers.
        await stores.backend.delete_one("blocks", {"_id": pair_id("block", blocker, blocked)})
        raise unavailable("redis") from exc
    return True


async def remove_block(stores: Stores, blocker: ObjectId, blocked: ObjectId) -> bool:
    block_id = pair_id("block", blocker, blocked)
    if not await stores.backend.delete_one("blocks", {"_id": block_id}):
        return False
    if not await has_blocked(stores, blocked, blocker):
        try:
            async with stores.redis.pipeline(transaction=False) as pipe:
                pipe.srem(_block_key(stores, blocker), str(blocked))
                pipe.srem(_block_key(stores, blocked), str(blocker))
                await pipe.execute()
        except REDIS_OUTAGE as exc:
            # repair: a stale member only hides content (fails closed) until the sets are
            # rebuilt (rebuild_graph_cache).
            log.warning("unblock %s -> %s not mirrored (Redis down): %s", blocker, blocked, exc)
    return True


async def has_blocked(stores: Stores, blocker: ObjectId, blocked: ObjectId) -> bool:
    """Did `blocker` block `blocked` (this direction only)? The set of blocks either way around
    `blocked` (built once, as for `blocked_among`) answers "no" for nearly every pair in one
    call, and a profile view asks this; only a pair in it is a primary-key read of `blocks`."""
    key = _block_key(stores, blocked)
    try:
        built, either = await stores.redis.smismember(key, [_BUILT, str(blocker)])
        if not built:
            await _rebuild_block_set(stores, blocked)
            either = await stores.redis.sismember(key, str(blocker))
    except REDIS_OUTAGE:
        note_degraded("graph")
        either = True  # unknown: the primary-key read below answers
    if not either:
        return False
    found = await stores.db.blocks.find_one(
        {"_id": pair_id("block", blocker, blocked)}, projection={"_id": 1}
    )
    return found is not None


async def blocked_among(
    stores: Stores, user_id: ObjectId, others: Sequence[ObjectId]
) -> set[ObjectId]:
    """Those of `others` with a block either way with `user_id`: one SMISMEMBER, the "built"
    marker asked first (a set not built yet is built, then asked again)."""
    if not others:
        return set()
    key = _block_key(stores, user_id)
    members = [str(o) for o in others]
    try:
        built, *flags = await stores.redis.smismember(key, [_BUILT, *members])
        if not built:
            await _rebuild_block_set(stores, user_id)
            flags = await stores.redis.smismember(key, members)
    except REDIS_OUTAGE:
        note_degraded("graph")
        # Never fail open: without the set, MongoDB answers, by primary key both ways.
        return await _blocked_among_from_mongo(stores, user_id, others)
    return {o for o, f in zip(others, flags, strict=True) if f}


async def _blocked_among_from_mongo(
    stores: Stores, user_id: ObjectId, others: Sequence[ObjectId]
) -> set[ObjectId]:
    ids = {pair_id("block", user_id, o): o for o in others}
    ids.update({pair_id("block", o, user_id): o for o in others})
    found = await stores.backend.find_by_ids("blocks", list(ids))
    return {ids[d["_id"]] for d in found}


def queue_blocked_among(
    pipe: Any, stores: Stores, user_id: ObjectId, others: Sequence[str]
) -> None:
    """`blocked_among` inside a caller's own pipeline, so a read path can batch the check with
    its other reads (search asks it in the same round trip as its scores and terms): queues the
    one SMISMEMBER, with the "built" marker asked first. Read the reply with
    `blocked_among_reply`. `others` are ObjectId hex strings."""
    pipe.smismember(_block_key(stores, user_id), [_BUILT, *others])


# A block set read whole in a first round trip: most sets hold a handful of accounts, so
# filtering a search's ~1,000 candidates against the set in Python beats sending them all to
# SMISMEMBER in a second round trip.
WHOLE_BLOCK_SET_MAX = 1000


def queue_block_set(pipe: Any, stores: Stores, user_id: ObjectId) -> None:
    """Queue a read of `user_id`'s whole block set (up to WHOLE_BLOCK_SET_MAX accounts);
    `blocked_in_set` reads the reply. SRANDMEMBER with a count above the set's size returns
    every member, so one command says both what the set holds and whether that was all."""
    pipe.srandmember(_block_key(stores, user_id), WHOLE_BLOCK_SET_MAX + 2)


def blocked_in_set(reply: Sequence[Any], others: Sequence[str]) -> set[str] | None:
    """Those of `others` (hex) with a block either way, from `queue_block_set`'s reply; None
    when the reply cannot say (the set is not built, or larger than was read): then ask with
    `queue_blocked_among`, which also builds it."""
    members = {m.decode() if isinstance(m, bytes) else m for m in reply}
    if _BUILT not in members or len(reply) > WHOLE_BLOCK_SET_MAX + 1:
        return None
    return {o for o in others if o in members}


async def blocked_among_reply(
    stores: Stores, user_id: ObjectId, others: Sequence[str], flags: Sequence[Any]
) -> set[str]:
    """Those of `others` (hex) with a block either way with `user_id`, from the reply to
    `queue_blocked_among`. A set not built yet is built and asked again, as `blocked_among`
    does (a cold path: the first check after Redis lost the set)."""
    if flags[0]:
        return {o for o, f in zip(others, flags[1:], strict=True) if f}
    oids = [ObjectId(o) for o in others if ObjectId.is_valid(o)]
    return {str(o) for o in await blocked_among(stores, user_id, oids)}
