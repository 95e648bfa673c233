"""The benchmark's dataset: generated from a seed, bulk-loaded once, reused while the seed and
scale match.

MongoDB gets users, follows, posts, likes and comments in the shapes of docs/data-model.md
(exact counters, `pair_id` follow ids). Redis gets, under one prefix per feed strategy, every
derived structure the app would otherwise rebuild on first use: followers/following zsets,
authored sets and their markers, home timelines of active users (computed here, in Python, as
`feed.rebuild.rebuild_timeline` would), the `active` zset, the `celebs` set and every post's
comment thread (`services.comment_threads`).

Shape (small): 10,000 users whose follower counts follow a power law (rank-based Zipf, the top
account about 6,000 followers), a median of 45 followees (log-normal), 50 heavy viewers who each
follow 1,000 accounts, 100,000 posts over 30 days, 300,000 likes and 20,000 comments skewed
toward popular authors' posts, 10% private accounts, 20% inactive users (no feed read for
weeks), and three delivery authors with 100, 1,000 and 10,000 followers.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from bson import ObjectId

from core.settings import Settings, get_settings
from datastore.accounts import pair_id, username_map_key
from datastore.stores import Stores, open_stores, prepare_stores
from services.comment_threads import BUILT, thread_key

DATASET_VERSION = 3
# Bumped when load_redis builds more, so a cached Redis state is rebuilt.
REDIS_STATE_VERSION = 2
DAY_MS = 86_400_000
BATCH = 10_000
PIPE = 2_000
STRATEGIES = ("push", "pull", "hybrid")
# Hybrid's threshold in the trade-off table: the app's default (1,000,000) would make every
# author of this dataset a push author, i.e. hybrid == push.
BENCH_CELEBRITY_THRESHOLD = 5_000


@dataclass(frozen=True)
class Scale:
    name: str
    users: int
    posts: int
    likes: int
    comments: int
    heavy_viewers: int
    heavy_follows: int
    median_following: int


SCALES = {
    "small": Scale("small", 10_000, 100_000, 300_000, 20_000, 50, 1_000, 45),
    "large": Scale("large", 100_000, 1_000_000, 3_000_000, 200_000, 200, 1_000, 45),
}
DELIVERY_FOLLOWERS = (100, 1_000, 10_000)
# Scales whose world is the PostGraphile peer's dataset (bench/peer.py) rather than `generate`.
PEER_SCALES = ("small",)


def db_name(scale: str) -> str:
    return f"bench_{scale}"


def prefix(scale: str, strategy: str) -> str:
    return f"bench:{scale}:{strategy}:"


def bench_settings(scale: str, strategy: str, **overrides: object) -> Settings:
    """Settings of the app against the bench dataset for one strategy; `hybrid` uses
    BENCH_CELEBRITY_THRESHOLD unless overridden."""
    values: dict[str, object] = {
        "mongodb_db": db_name(scale),
        "redis_prefix": prefix(scale, strategy),
        "s3_bucket": "bench-media",
        "feed_strategy": strategy,
        # One JSON log line per request (INFO) would be measured too; the peer logs nothing.
        "log_level": "WARNING",
        # The cost bucket still runs (its Redis script is part of every request's cost), but
        # one heavy viewer at thousands of requests a second would otherwise be RATE_LIMITED
        # after a second: the peer has no limit, so the rows measure serving, not refusing.
        "cost_bucket_capacity": 1_000_000_000,
        "cost_bucket_restore_rate": 1_000_000_000,
    }
    if strategy == "hybrid":
        values["celebrity_follower_threshold"] = BENCH_CELEBRITY_THRESHOLD
    values.update(overrides)
    return get_settings().model_copy(update=values)


def _at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass
class Dataset:
    """The generated world, kept in memory to derive Redis state and pick viewers."""

    scale: Scale
    seed: int
    now_ms: int
    user_ids: list[ObjectId]
    usernames: list[str]
    private: np.ndarray
    active: np.ndarray  # bool per user
    following: list[np.ndarray]  # followee indices per user
    follow_ms: list[np.ndarray]  # follow time per edge (same order)
    post_author: np.ndarray
    post_ms: np.ndarray
    post_ids: list[ObjectId]
    like_count: np.ndarray
    comment_count: np.ndarray
    heavy: list[int]
    delivery: dict[int, int]  # followers wanted -> user index
    followers: list[list[int]] = field(default_factory=list)
    # Set when the world is the PostGraphile peer's dataset (bench/peer.py, small scale):
    source: str = "generated"
    captions: list[str] | None = None  # the peer's captions and their hashtags, per post
    hashtags: list[list[str]] | None = None
    likes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (user, post, ms) per like
    viewers: list[int] | None = None  # the peer's 1,000 ordinary viewers, in its rotation order
    post_uuids: list[str] | None = None  # the peer's post ids, to compare feeds with its answers

    @property
    def n(self) -> int:
        return len(self.user_ids)

    def follower_counts(self) -> np.ndarray:
        return np.array([len(f) for f in self.followers])

    def ordinary_viewers(self, limit: int = 300) -> list[int]:
        """Active users following 20 to 100 accounts (the peer's ordinary viewer); on the peer's
        dataset, the peer's own viewers in its rotation order."""
        if self.viewers is not None:
            return self.viewers[:limit]
        heavy = set(self.heavy) | set(self.delivery.values())
        picked = [
            i
            for i in range(self.n)
            if self.active[i] and 20 <= len(self.following[i]) <= 100 and i not in heavy
        ]
        rng = np.random.default_rng(self.seed + 1)
        return sorted(rng.choice(picked, size=min(limit, len(picked)), replace=False).tolist())


def _object_id(rng: np.random.Generator, ms: int) -> ObjectId:
    return ObjectId(int(ms // 1000).to_bytes(4, "big") + rng.bytes(8))


def _weighted_sample(
    rng: np.random.Generator, cdf: np.ndarray, k: int, exclude: set[int]
) -> np.ndarray:
    """k distinct indices drawn by weight (oversample with replacement, dedupe, repeat)."""
    chosen: dict[int, None] = {}
    while len(chosen) < k:
        draw = np.searchsorted(cdf, rng.random(int((k - len(chosen)) * 1.3) + 8))
        for x in draw.tolist():
            if x not in exclude and x not in chosen:
                chosen[x] = None
                if len(chosen) == k:
                    break
    return np.fromiter(chosen, dtype=np.int64, count=k)


def generate(scale: Scale, seed: int, now_ms: int | None = None) -> Dataset:
    rng = np.random.default_rng(seed)
    now_ms = now_ms or int(time.time() * 1000)
    n_plain = scale.users
    n = n_plain + len(DELIVERY_FOLLOWERS)  # the delivery authors come last
    joined = now_ms - rng.integers(60, 900, n) * DAY_MS
    user_ids = [_object_id(rng, int(ms)) for ms in joined]
    usernames = [f"user{i:06d}" for i in range(n_plain)] + [
        f"deliver{f}" for f in DELIVERY_FOLLOWERS
    ]
    private = rng.random(n) < 0.10
    active = rng.random(n) >= 0.20
    # Popularity: rank-based Zipf over a random permutation, so ids carry no order.
    rank = rng.permutation(n_plain)
    weight = (rank + 6.0) ** -0.97
    cdf = np.cumsum(weight / weight.sum())
    heavy = sorted(rng.choice(n_plain, size=scale.heavy_viewers, replace=False).tolist())
    active[heavy] = True
    k = np.clip(np.round(rng.lognormal(np.log(scale.median_following), 0.45, n_plain)), 3, 400)
    following: list[np.ndarray] = []
    for i in range(n_plain):
        want = scale.heavy_follows if i in heavy else int(k[i])
        following.append(_weighted_sample(rng, cdf, want, {i}))
    delivery: dict[int, int] = {}
    for j, count in enumerate(DELIVERY_FOLLOWERS):
        author = n_plain + j
        delivery[count] = author
        active[author] = True
        private[author] = False
        fans = np.arange(n_plain) if count >= n_plain else rng.choice(n_plain, count, False)
        for f in fans.tolist():
            following[f] = np.append(following[f], author)
    following += [np.zeros(0, dtype=np.int64) for _ in DELIVERY_FOLLOWERS]
    follow_ms: list[np.ndarray] = []
    for i in range(n):
        # A follow happens after both accounts exist.
        start = np.maximum(joined[i], joined[following[i]]) if len(following[i]) else joined[i]
        span = np.maximum(now_ms - DAY_MS - start, 1)
        follow_ms.append((start + (rng.random(len(following[i])) * span)).astype(np.int64))
    followers: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for f in following[i].tolist():
            followers[f].append(i)
    # Posts: how often an author posts is log-normal, loosely tied to popularity.
    activity = rng.lognormal(0.0, 1.0, n_plain) * (1 + 10 * weight / weight.max())
    post_author = np.searchsorted(np.cumsum(activity / activity.sum()), rng.random(scale.posts))
    post_author = np.minimum(post_author, n_plain - 1)
    post_ms = np.sort(now_ms - (rng.random(scale.posts) * 30 * DAY_MS).astype(np.int64))
    post_ids = [_object_id(rng, int(ms)) for ms in post_ms]
    # Engagement skews toward popular authors' posts and, within them, a heavy tail.
    fcount = np.array([len(f) for f in followers], dtype=float)
    appeal = (fcount[post_author] + 5) ** 0.9 * rng.lognormal(0, 1.0, scale.posts)
    appeal /= appeal.sum()
    like_count = rng.multinomial(scale.likes, appeal)
    like_count = np.minimum(like_count, n_plain - 1)
    comment_count = rng.multinomial(scale.comments, appeal)
    return Dataset(
        scale,
        seed,
        now_ms,
        user_ids,
        usernames,
        private,
        active,
        following,
        follow_ms,
        post_author,
        post_ms,
        post_ids,
        like_count,
        comment_count,
        heavy,
        delivery,
        followers,
    )


def _peer_oid(seconds: int, key: bytes) -> ObjectId:
    """An ObjectId for one of the peer's uuids: its time, then 8 bytes of the uuid's hash."""
    return ObjectId(int(seconds).to_bytes(4, "big") + hashlib.sha256(key).digest()[:8])


def _tsv(path: Path) -> list[list[str]]:
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f]


def _ms(stamps: list[str]) -> np.ndarray:
    """The peer's `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, no zone) as epoch milliseconds."""
    return np.array(stamps, dtype="datetime64[us]").astype(np.int64) // 1000


def from_peer(scale: Scale, seed: int, now_ms: int | None = None) -> Dataset:
    """The PostGraphile peer's dataset (gen_dataset.py, fixed seed): the same users, follows,
    posts (times, authors, captions, hashtags) and likes, with its uuids mapped to ObjectIds
    (time + hash of the uuid, so the same every run). On top, as `generate` does: comments
    (`seed`), photo media per post, the three delivery authors (no posts; followed by 100,
    1,000 and all 10,000 users) and 20% inactive users, never among the peer's viewers. No
    private accounts: the peer has none. Heavy viewer: the peer's one (follows 1,000)."""
    from bench.peer import ensure_dataset_files

    folder, manifest = ensure_dataset_files()
    rng = np.random.default_rng(seed)
    now_ms = now_ms or int(time.time() * 1000)
    users = _tsv(folder / "users.tsv")
    n_plain = len(users)
    assert n_plain == scale.users, (n_plain, scale)
    index = {row[0]: i for i, row in enumerate(users)}
    joined_ms = _ms([row[8] for row in users])
    user_ids = [
        _peer_oid(ms // 1000, uuid.UUID(row[0]).bytes)
        for ms, row in zip(joined_ms.tolist(), users, strict=True)
    ]
    usernames = [row[1] for row in users]
    del users
    n = n_plain + len(DELIVERY_FOLLOWERS)
    anchor_ms = int(datetime.fromisoformat(manifest["anchor"]).replace(tzinfo=UTC).timestamp())
    anchor_ms *= 1000
    for f in DELIVERY_FOLLOWERS:
        name = f"deliver{f}"
        user_ids.append(_peer_oid((anchor_ms - 1000 * DAY_MS) // 1000, name.encode()))
        usernames.append(name)

    follows = _tsv(folder / "user_follows.tsv")
    f_from = np.fromiter((index[r[0]] for r in follows), dtype=np.int64, count=len(follows))
    f_to = np.fromiter((index[r[1]] for r in follows), dtype=np.int64, count=len(follows))
    f_ms = _ms([r[2] for r in follows])
    del follows
    order = np.argsort(f_from, kind="stable")
    bounds = np.searchsorted(f_from[order], np.arange(n_plain + 1))
    following = [f_to[order[bounds[i] : bounds[i + 1]]] for i in range(n_plain)]
    follow_ms = [f_ms[order[bounds[i] : bounds[i + 1]]] for i in range(n_plain)]
    delivery: dict[int, int] = {}
    for j, count in enumerate(DELIVERY_FOLLOWERS):
        author = n_plain + j
        delivery[count] = author
        fans = np.arange(n_plain) if count >= n_plain else rng.choice(n_plain, count, False)
        for fan in fans.tolist():
            following[fan] = np.append(following[fan], author)
            at = anchor_ms - int((31 + rng.random() * 369) * DAY_MS)
            follow_ms[fan] = np.append(follow_ms[fan], at)
    following += [np.zeros(0, dtype=np.int64) for _ in DELIVERY_FOLLOWERS]
    follow_ms += [np.zeros(0, dtype=np.int64) for _ in DELIVERY_FOLLOWERS]
    followers: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for f in following[i].tolist():
            followers[f].append(i)

    posts = _tsv(folder / "posts.tsv")  # sorted by (created_at, post_id)
    post_ms = _ms([r[9] for r in posts])
    post_uuid = {r[0]: j for j, r in enumerate(posts)}
    post_ids = [
        _peer_oid(ms // 1000, uuid.UUID(r[0]).bytes)
        for ms, r in zip(post_ms.tolist(), posts, strict=True)
    ]
    post_author = np.fromiter((index[r[1]] for r in posts), dtype=np.int64, count=len(posts))
    post_uuids = [r[0] for r in posts]
    captions = [r[4] for r in posts]
    hashtags = [[t for t in r[5].strip("{}").split(",") if t] for r in posts]
    like_count = np.array([int(r[7]) for r in posts], dtype=np.int64)
    del posts
    likes = _tsv(folder / "post_likes.tsv")
    like_user = np.fromiter((index[r[0]] for r in likes), dtype=np.int64, count=len(likes))
    like_post = np.fromiter((post_uuid[r[1]] for r in likes), dtype=np.int64, count=len(likes))
    like_ms = _ms([r[2] for r in likes])
    del likes, post_uuid
    assert (np.bincount(like_post, minlength=len(post_ids)) == like_count).all()

    viewers = [index[x] for x in (folder / "viewers.txt").read_text().split()]
    heavy = [index[(folder / "heavy_viewer.txt").read_text().strip()]]
    private = np.zeros(n, dtype=bool)
    active = rng.random(n) >= 0.20
    active[viewers + heavy + list(delivery.values())] = True
    fcount = np.array([len(f) for f in followers], dtype=float)
    appeal = (fcount[post_author] + 5) ** 0.9 * rng.lognormal(0, 1.0, len(post_ids))
    comment_count = rng.multinomial(scale.comments, appeal / appeal.sum())
    return Dataset(
        scale,
        seed,
        now_ms,
        user_ids,
        usernames,
        private,
        active,
        following,
        follow_ms,
        post_author,
        post_ms,
        post_ids,
        like_count,
        comment_count,
        heavy,
        delivery,
        followers,
        source=f"peer:{manifest['dataset_sha256']}",
        captions=captions,
        hashtags=hashtags,
        likes=(like_user, like_post, like_ms),
        viewers=viewers,
        post_uuids=post_uuids,
    )


# --- documents -------------------------------------------------------------------------------


def _photo(key_base: str, sizes: tuple[int, ...], square: bool) -> dict:
    renditions = [
        {
            "width": w,
            "height": w if square else w * 5 // 4,
            "key": f"{key_base}/{w}.{ext}",
            "content_type": ctype,
        }
        for w in sizes
        for ext, ctype in (("webp", "image/webp"), ("jpg", "image/jpeg"))
    ]
    return {
        "type": "PHOTO",
        "kind": "jpeg",
        "width": 1080,
        "height": 1080 if square else 1350,
        "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        "source_key": f"{key_base}/src",
        "renditions": renditions,
        "thumbnail": {
            "width": 320,
            "height": 320,
            "key": f"{key_base}/thumb.webp",
            "content_type": "image/webp",
        },
        "duration_seconds": None,
        "poster_key": None,
    }


WORDS = [
    "sunset",
    "coffee",
    "beach",
    "city",
    "friends",
    "weekend",
    "travel",
    "food",
    "morning",
    "light",
    "street",
    "dog",
    "cat",
    "mountain",
    "lake",
    "concert",
    "art",
    "summer",
    "winter",
    "rain",
    "garden",
    "market",
    "bike",
    "run",
    "book",
]


def user_doc(ds: Dataset, i: int) -> dict:
    joined = _at_ms(int(ObjectId(ds.user_ids[i]).generation_time.timestamp() * 1000))
    rng = np.random.default_rng(ds.seed * 1_000_003 + i)
    name = ds.usernames[i]
    has_avatar = rng.random() < 0.7
    return {
        "_id": ds.user_ids[i],
        "username": name,
        "username_lower": name.lower(),
        "email": f"{name}@bench.test",
        "password_hash": "!unusable",
        "full_name": f"{WORDS[i % len(WORDS)].title()} {WORDS[(i // 7) % len(WORDS)].title()}",
        "bio": "",
        "website": None,
        "is_private": bool(ds.private[i]),
        "is_verified": len(ds.followers[i]) > 2_000,
        "avatar": _photo(f"avatars/{ds.user_ids[i]}/1", (150, 320, 640), True)
        if has_avatar
        else None,
        "follower_count": len(ds.followers[i]),
        "following_count": len(ds.following[i]),
        "post_count": 0,  # set after posts
        "created_at": joined,
        "updated_at": joined,
        "last_active_at": _at_ms(ds.now_ms - (0 if ds.active[i] else 40 * DAY_MS)),
    }


def post_doc(ds: Dataset, j: int) -> dict:
    pid = ds.post_ids[j]
    at = _at_ms(int(ds.post_ms[j]))
    if ds.captions is not None:
        caption = ds.captions[j]
    else:
        caption = " ".join(WORDS[(j * 7 + x) % len(WORDS)] for x in range(3 + j % 9))
    return {
        "_id": pid,
        "author_id": ds.user_ids[int(ds.post_author[j])],
        "status": "READY",
        "failure_reason": None,
        "caption": caption,
        "hashtags": list(ds.hashtags[j]) if ds.hashtags is not None else [],
        "mentions": [],
        "location": None,
        "media": [_photo(f"posts/{pid}/0", (320, 640, 1080), False)],
        "like_count": int(ds.like_count[j]),
        "comment_count": int(ds.comment_count[j]),
        "share_count": 0,
        "created_at": at,
        "published_at": at,
        "updated_at": at,
    }


def _likes(ds: Dataset) -> Iterator[list[dict]]:
    rng = np.random.default_rng(ds.seed + 7)
    if ds.likes is not None:  # the peer's like rows, as they are
        users, posts, times = ds.likes
        rows = zip(users.tolist(), posts.tolist(), times.tolist(), strict=True)
        yield from _chunked(
            {
                "_id": _object_id(rng, ms),
                "post_id": ds.post_ids[j],
                "user_id": ds.user_ids[u],
                "created_at": _at_ms(ms),
            }
            for u, j, ms in rows
        )
        return
    n_plain = ds.scale.users
    batch: list[dict] = []
    for j in np.flatnonzero(ds.like_count).tolist():
        c = int(ds.like_count[j])
        likers = rng.choice(n_plain, c, replace=False) if c > 50 else _few(rng, n_plain, c)
        base = int(ds.post_ms[j])
        for u in likers.tolist():
            at = base + int(rng.integers(1_000, DAY_MS))
            batch.append(
                {
                    "_id": _object_id(rng, min(at, ds.now_ms)),
                    "post_id": ds.post_ids[j],
                    "user_id": ds.user_ids[u],
                    "created_at": _at_ms(min(at, ds.now_ms)),
                }
            )
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _few(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    return np.unique(rng.integers(0, n, c * 2))[:c] if c else np.zeros(0, dtype=np.int64)


def _comments(ds: Dataset) -> Iterator[list[dict]]:
    rng = np.random.default_rng(ds.seed + 11)
    batch: list[dict] = []
    for j in np.flatnonzero(ds.comment_count).tolist():
        base = int(ds.post_ms[j])
        for _ in range(int(ds.comment_count[j])):
            at = min(base + int(rng.integers(1_000, DAY_MS)), ds.now_ms)
            batch.append(
                {
                    "_id": _object_id(rng, at),
                    "post_id": ds.post_ids[j],
                    "author_id": ds.user_ids[int(rng.integers(0, ds.scale.users))],
                    "text": " ".join(WORDS[int(x)] for x in rng.integers(0, len(WORDS), 6)),
                    "reply_to_id": None,
                    "reply_count": 0,
                    "created_at": _at_ms(at),
                }
            )
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


# --- loading ---------------------------------------------------------------------------------


def fingerprint(scale: Scale, seed: int, source: str = "") -> str:
    """`source`: "" for the generator, `peer:<dataset sha256>` for the peer's dataset."""
    key = f"{DATASET_VERSION}:{scale}:{seed}" + (f":{source}" if source else "")
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def redis_mark(fp: str) -> str:
    """What the `bench:built` key holds once a strategy's Redis state matches dataset `fp`."""
    return f"{fp}/r{REDIS_STATE_VERSION}"


def _progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-6)
    print(f"\r  {label}: {done:,}/{total:,} ({rate:,.0f}/s)   ", end="", flush=True)


async def _insert(stores: Stores, name: str, batches: Iterator[list[dict]], total: int) -> None:
    started, done = time.perf_counter(), 0
    for docs in batches:
        await stores.db[name].insert_many(docs, ordered=False)
        done += len(docs)
        _progress(name, done, total, started)
    print(f"\r  {name}: {done:,} in {time.perf_counter() - started:.0f} s" + " " * 20, flush=True)


def _chunked(items: Iterator[dict], size: int = BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def load_mongo(stores: Stores, ds: Dataset) -> dict[str, int]:
    """Drop and bulk-load the bench database; returns document counts."""
    await stores.mongo.drop_database(stores.settings.mongodb_db)
    await prepare_stores(stores)  # indexes first: inserts then check unique keys as the app does
    post_counts = np.bincount(ds.post_author, minlength=ds.n)
    users = []
    for i in range(ds.n):
        doc = user_doc(ds, i)
        doc["post_count"] = int(post_counts[i])
        users.append(doc)

    def follows() -> Iterator[dict]:
        for i in range(ds.n):
            for f, ms in zip(ds.following[i].tolist(), ds.follow_ms[i].tolist(), strict=True):
                yield {
                    "_id": pair_id("follow", ds.user_ids[i], ds.user_ids[f]),
                    "follower_id": ds.user_ids[i],
                    "followee_id": ds.user_ids[f],
                    "created_at": _at_ms(ms),
                }

    n_follows = sum(len(f) for f in ds.following)
    n_likes = int(ds.like_count.sum())
    n_comments = int(ds.comment_count.sum())
    # FerretDB (SQLite) inserts about 5k documents/s per collection; collections load in
    # parallel.
    await asyncio.gather(
        _insert(stores, "users", _chunked(iter(users)), len(users)),
        _insert(stores, "follows", _chunked(follows()), n_follows),
        _insert(
            stores,
            "posts",
            _chunked(post_doc(ds, j) for j in range(len(ds.post_ids))),
            len(ds.post_ids),
        ),
        _insert(stores, "likes", _likes(ds), n_likes),
        _insert(stores, "comments", _comments(ds), n_comments),
    )
    return {
        "users": ds.n,
        "follows": n_follows,
        "posts": len(ds.post_ids),
        "likes": n_likes,
        "comments": n_comments,
    }


class _Pipe:
    """Pipelined writes flushed every PIPE commands (one round trip each)."""

    def __init__(self, stores: Stores) -> None:
        self.redis = stores.redis
        self.pipe = self.redis.pipeline(transaction=False)
        self.count = 0

    async def add(self, method: str, *args: object, **kwargs: object) -> None:
        getattr(self.pipe, method)(*args, **kwargs)
        self.count += 1
        if self.count >= PIPE:
            await self.flush()

    async def flush(self) -> None:
        if self.count:
            await self.pipe.execute()
            self.pipe = self.redis.pipeline(transaction=False)
            self.count = 0


async def clear_prefix(stores: Stores) -> int:
    keys = [
        k
        async for k in stores.redis.scan_iter(match=f"{stores.settings.redis_prefix}*", count=5000)
    ]
    for i in range(0, len(keys), 1000):
        await stores.redis.delete(*keys[i : i + 1000])
    return len(keys)


def authored_of(ds: Dataset, cap: int) -> list[list[int]]:
    """Per author: post indices, newest first, capped (post_ms is sorted ascending)."""
    out: list[list[int]] = [[] for _ in range(ds.n)]
    for j in range(len(ds.post_ids) - 1, -1, -1):
        lst = out[int(ds.post_author[j])]
        if len(lst) < cap:
            lst.append(j)
    return out


async def load_redis(stores: Stores, ds: Dataset, strategy: str) -> dict[str, int]:
    """Every derived structure of one strategy, under the stores' prefix."""
    k = stores.keys
    cap = stores.settings.timeline_cap
    await clear_prefix(stores)
    p = _Pipe(stores)
    hexes = [str(u) for u in ds.user_ids]
    for i in range(ds.n):
        if len(ds.following[i]):
            await p.add(
                "zadd",
                k("following", hexes[i]),
                {
                    hexes[f]: ms
                    for f, ms in zip(
                        ds.following[i].tolist(), ds.follow_ms[i].tolist(), strict=True
                    )
                },
            )
    # followers:{x} holds the same follow times, seen from the other side.
    fans: list[dict[str, int]] = [{} for _ in range(ds.n)]
    for i in range(ds.n):
        for f, ms in zip(ds.following[i].tolist(), ds.follow_ms[i].tolist(), strict=True):
            fans[f][hexes[i]] = ms
    for i in range(ds.n):
        if fans[i]:
            await p.add("zadd", k("followers", hexes[i]), fans[i])
    del fans
    # The username -> id map registration writes (datastore/accounts.py).
    names = [(ds.usernames[i].lower(), hexes[i]) for i in range(ds.n)]
    for i in range(0, len(names), 5_000):
        await p.add("hset", username_map_key(stores), mapping=dict(names[i : i + 5_000]))
    post_hex = [str(x) for x in ds.post_ids]
    authored = authored_of(ds, cap)
    for i in range(ds.n):
        if authored[i]:
            await p.add(
                "zadd",
                k("authored", hexes[i]),
                {post_hex[j]: int(ds.post_ms[j]) for j in authored[i]},
            )
        await p.add("set", k("authb", hexes[i]), 1)
    threshold = stores.settings.celebrity_follower_threshold
    counts = ds.follower_counts()
    posted = {int(a) for a in np.unique(ds.post_author)}
    if strategy == "pull":
        celebs = sorted(posted)
    elif strategy == "hybrid":
        # As if every account above the threshold had posted since crossing it.
        celebs = [i for i in range(ds.n) if counts[i] > threshold]
    else:
        celebs = []
    if celebs:
        await p.add("sadd", k("celebs"), *[hexes[i] for i in celebs])
    timelines = 0
    if strategy != "pull":
        # What rebuild_timeline computes: the newest `cap` READY posts of the followees and the
        # user (celebrities included: the reader de-duplicates).
        for i in np.flatnonzero(ds.active).tolist():
            sources = [authored[i]] + [authored[f] for f in ds.following[i].tolist()]
            merged = sorted((j for src in sources for j in src), reverse=True)[:cap]
            if merged:
                await p.add(
                    "zadd", k("tl", hexes[i]), {post_hex[j]: int(ds.post_ms[j]) for j in merged}
                )
                timelines += 1
            await p.add("set", k("tlb", hexes[i]), 1)
    # Every post's top-level comment thread, built (the generator writes no replies).
    threads: list[dict[str, int]] = [{BUILT: 0} for _ in range(len(ds.post_ids))]
    index = {pid: j for j, pid in enumerate(ds.post_ids)}
    for batch in _comments(ds):
        for c in batch:
            threads[index[c["post_id"]]][str(c["_id"])] = 0
    for j, members in enumerate(threads):
        await p.add("zadd", thread_key(stores, ds.post_ids[j], None), members)
    del threads, index
    await p.flush()
    await mark_active(stores, ds)
    return {"celebrities": len(celebs), "timelines": timelines}


async def mark_active(stores: Stores, ds: Dataset) -> None:
    """Active users read their feed within the last week (relative to now, so a cached dataset
    stays 'active'); inactive ones are absent from the zset."""
    rng = np.random.default_rng(ds.seed + 3)
    now = int(time.time() * 1000)
    scores = {
        str(ds.user_ids[i]): now - int(rng.integers(0, 7 * DAY_MS))
        for i in np.flatnonzero(ds.active).tolist()
    }
    p = _Pipe(stores)
    items = list(scores.items())
    for i in range(0, len(items), 5_000):
        await p.add("zadd", stores.keys("active"), dict(items[i : i + 5_000]))
    await p.flush()


async def warm_doc_cache(stores: Stores, ds: Dataset, ttl_seconds: int) -> int:
    """Fill the Redis document cache (datastore/doc_cache.py) with every user and post, as the
    app's own misses would, but with a TTL covering the run. Why: FerretDB answers a miss's
    `_id $in` with a collection scan (seconds on 100k posts), so a cold cache would measure
    FerretDB's scans, not the feed path; on MongoDB a miss is an index read. Entries are
    written by the app's own caches (their keys and encoding), so they match what it reads."""
    from datastore.doc_cache import comment_cache, post_cache, user_cache

    pipe = stores.redis_raw.pipeline(transaction=False)
    n = 0
    post_counts = np.bincount(ds.post_author, minlength=ds.n)

    def users() -> Iterator[dict]:
        for i in range(ds.n):
            doc = user_doc(ds, i)
            doc["post_count"] = int(post_counts[i])
            yield doc

    def comments() -> Iterator[dict]:
        for batch in _comments(ds):
            yield from batch

    posts = (post_doc(ds, j) for j in range(len(ds.post_ids)))
    for cache, docs in (
        (user_cache(stores), users()),
        (post_cache(stores), posts),
        (comment_cache(stores), comments()),
    ):
        for doc in docs:
            if not cache.cacheable(doc):
                continue
            pipe.set(cache.key(doc["_id"]), cache.encode(doc), ex=ttl_seconds)
            n += 1
            if n % PIPE == 0:
                await pipe.execute()
    await pipe.execute()
    return n


async def ensure_dataset(
    scale_name: str, seed: int, *, force: bool = False, redis_only: bool = False
) -> tuple[Dataset, dict]:
    """Generate the dataset (always: it is needed in memory) and load MongoDB and each strategy's
    Redis state unless a marker says this seed and scale are already there.

    `redis_only`: no MongoDB load and only the push state (the default setup reads it), for the
    warm feed rows at a scale FerretDB takes too long to load; a warm feed page reads no
    MongoDB (the costs section counts it), so those rows measure the same path."""
    scale = SCALES[scale_name]
    source = ""
    if scale_name in PEER_SCALES:
        from bench.peer import ensure_dataset_files

        source = f"peer:{ensure_dataset_files()[1]['dataset_sha256']}"
    fp = fingerprint(scale, seed, source)
    world = from_peer if source else generate
    stores = open_stores(bench_settings(scale_name, "push"))
    info: dict = {"fingerprint": fp, "source": source or "generated"}
    try:
        marker = await stores.db.bench_meta.find_one({"_id": "dataset"})
        now_ms = int(marker["now_ms"]) if marker and marker.get("fingerprint") == fp else None
        if redis_only:
            # Ids derive from the dataset's "now": reuse the one the Redis state was built with.
            built, saved = await stores.redis.mget(
                [stores.keys("bench", "built"), stores.keys("bench", "now_ms")]
            )
            now_ms = int(saved) if built == redis_mark(fp) and saved else None
        t = time.perf_counter()
        ds = world(scale, seed, now_ms)
        info["generate_s"] = round(time.perf_counter() - t, 1)
        print(f"dataset generated in {info['generate_s']} s", flush=True)
        if redis_only:
            print("MongoDB not loaded (--redis-only)", flush=True)
            info["loaded_now"] = False
            info["redis_only"] = True
            marker = {"counts": None, "load_mongo_s": None}
        elif marker is None or marker.get("fingerprint") != fp or force:
            print(f"loading MongoDB database {db_name(scale_name)} ...", flush=True)
            t = time.perf_counter()
            counts = await load_mongo(stores, ds)
            mongo_s = round(time.perf_counter() - t, 1)
            await stores.db.bench_meta.replace_one(
                {"_id": "dataset"},
                {
                    "_id": "dataset",
                    "fingerprint": fp,
                    "seed": seed,
                    "scale": scale_name,
                    "now_ms": ds.now_ms,
                    "counts": counts,
                    "load_mongo_s": mongo_s,
                    "loaded_at": datetime.now(UTC),
                },
                upsert=True,
            )
            marker = await stores.db.bench_meta.find_one({"_id": "dataset"})
            info["loaded_now"] = True
        else:
            print("MongoDB dataset already loaded (marker matches seed and scale)", flush=True)
            info["loaded_now"] = False
        info["counts"] = marker["counts"]
        info["load_mongo_s"] = marker["load_mongo_s"]
        info["redis"] = {}
        for strategy in ("push",) if redis_only else STRATEGIES:
            s = open_stores(bench_settings(scale_name, strategy))
            try:
                built = await s.redis.get(s.keys("bench", "built"))
                if built != redis_mark(fp) or info["loaded_now"] or force:
                    t = time.perf_counter()
                    print(f"building Redis state for {strategy} ...", flush=True)
                    res = await load_redis(s, ds, strategy)
                    if strategy == "push" and not redis_only:
                        from search.index import rebuild_index

                        res["search_index"] = await rebuild_index(s, batch_size=50_000)
                    res["seconds"] = round(time.perf_counter() - t, 1)
                    await s.redis.set(s.keys("bench", "built"), redis_mark(fp))
                    await s.redis.set(s.keys("bench", "now_ms"), ds.now_ms)
                    await s.redis.set(s.keys("bench", "built_info"), repr(res))
                    print(f"  {strategy}: {res}", flush=True)
                    info["redis"][strategy] = res
                else:
                    await mark_active(s, ds)
                    info["redis"][strategy] = {"cached": True}
            finally:
                await s.close()
        return ds, info
    finally:
        await stores.close()


def describe(ds: Dataset) -> dict:
    counts = ds.follower_counts()
    following = np.array([len(f) for f in ds.following[: ds.scale.users]])
    return {
        "users": ds.n,
        "posts": len(ds.post_ids),
        "follows": int(sum(len(f) for f in ds.following)),
        "likes": int(ds.like_count.sum()),
        "comments": int(ds.comment_count.sum()),
        "median_following": float(np.median(following)),
        "max_followers_plain": int(counts[: ds.scale.users].max()),
        "users_over_1000_followers": int((counts[: ds.scale.users] > 1000).sum()),
        "users_over_threshold": int((counts > BENCH_CELEBRITY_THRESHOLD).sum()),
        "private_share": round(float(ds.private.mean()), 3),
        "inactive_share": round(float(1 - ds.active.mean()), 3),
        "heavy_viewers": len(ds.heavy),
        "delivery_authors": {str(k): int(counts[v]) for k, v in ds.delivery.items()},
    }


async def drop(scale_name: str) -> None:
    """Remove the bench database and every strategy's Redis keys (they take about 2 GB of
    Redis at the small scale)."""
    stores = open_stores(bench_settings(scale_name, "push"))
    try:
        await stores.mongo.drop_database(db_name(scale_name))
        for strategy in STRATEGIES:
            s = open_stores(bench_settings(scale_name, strategy))
            try:
                print(f"{strategy}: {await clear_prefix(s):,} keys removed", flush=True)
            finally:
                await s.close()
    finally:
        await stores.close()
