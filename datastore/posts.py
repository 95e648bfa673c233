"""The `posts` collection: its records, queries, field names and indexes.

A post is PROCESSING from createPost until the worker has rendered its media, then READY (the
only status anyone but its author sees) or FAILED. Reads that page by recency sort by
`(published_at, _id)`, the order of every timeline score (feed/keys.py `score_of`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, TypedDict

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.cursor import AsyncCursor

from datastore.doc_lock import document_lock
from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

COLLECTION = "posts"

# A page position: (published_at in ms, hex id), the order of timelines and profile grids.
Position = tuple[int, str]


class PostStatus(StrEnum):
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


# The same value as a plain str, for per-document checks on the feed's hot paths: looking up an
# enum member and comparing with it costs about 100 ns more per post than a str.
READY: Final[str] = PostStatus.READY.value


class PostLocation(TypedDict):
    """The copy of a `locations` document a post embeds."""

    id: ObjectId
    name: str
    lat: float | None
    lng: float | None


class PostDoc(TypedDict, total=False):
    """A stored post. `total=False`: projected reads return some fields only."""

    _id: ObjectId
    author_id: ObjectId
    status: str
    failure_reason: str | None
    caption: str
    hashtags: list[str]
    mentions: list[str]
    location: PostLocation | None
    media: list[dict[str, Any]]
    like_count: int
    comment_count: int
    share_count: int
    created_at: datetime
    published_at: datetime | None
    updated_at: datetime


_NEWEST = [("published_at", DESCENDING), ("_id", DESCENDING)]

register_indexes(
    COLLECTION,
    [
        # An author's (or a followed set's) READY posts, newest first: profile grid past the
        # authored set's cap, timeline rebuilds, the pull feed when Redis is down.
        IndexModel(
            [
                ("author_id", ASCENDING),
                ("status", ASCENDING),
                ("published_at", DESCENDING),
                ("_id", DESCENDING),
            ]
        ),
        # Explore's recent READY scan and the search rebuild's READY scan.
        IndexModel([("status", ASCENDING), ("published_at", ASCENDING)]),
        # The sweeper's posts stuck in PROCESSING.
        IndexModel([("status", ASCENDING), ("created_at", ASCENDING)]),
    ],
)

_BY_ID = query(COLLECTION, "by_id", equality=["_id"])
_NEWEST_BY_AUTHORS = query(
    COLLECTION, "ready_by_authors_newest", equality=["author_id", "status"], sort=_NEWEST
)
_RECENT_READY = query(COLLECTION, "ready_since", equality=["status"], range="published_at")
_ALL_READY = query(COLLECTION, "all_ready", equality=["status"])
_STUCK = query(COLLECTION, "stuck_processing", equality=["status"], range="created_at")


def position_filter(bound: Position | None) -> dict[str, Any]:
    """The filter for "strictly older than `bound`" in `(published_at, _id)` order."""
    if bound is None:
        return {}
    at = datetime.fromtimestamp(bound[0] / 1000, UTC)
    return {
        "$or": [
            {"published_at": {"$lt": at}},
            {"published_at": at, "_id": {"$lt": ObjectId(bound[1])}},
        ]
    }


async def find_post(
    stores: Stores, post_id: ObjectId, projection: Mapping[str, int] | None = None
) -> PostDoc | None:
    return await stores.db.posts.find_one({"_id": post_id}, projection=projection)


async def find_posts(stores: Stores, post_ids: list[ObjectId]) -> list[PostDoc]:
    """The posts that exist among `post_ids`, read fresh (not through the document cache),
    in no particular order."""
    return await stores.backend.find_by_ids("posts", post_ids)


async def find_processing(stores: Stores, post_id: ObjectId) -> PostDoc | None:
    return await stores.db.posts.find_one({"_id": post_id, "status": PostStatus.PROCESSING})


async def post_exists(stores: Stores, post_id: ObjectId) -> bool:
    return await stores.db.posts.find_one({"_id": post_id}, projection={"_id": 1}) is not None


async def insert_post(stores: Stores, doc: PostDoc) -> None:
    await stores.backend.write(lambda: stores.db.posts.insert_one(doc))


async def delete_authored(stores: Stores, post_id: ObjectId, author_id: ObjectId) -> PostDoc | None:
    """Delete `author_id`'s post `post_id`; the deleted document, or None (not theirs, gone)."""
    async with document_lock(stores, COLLECTION, post_id):
        return await stores.backend.write(
            lambda: stores.db.posts.find_one_and_delete({"_id": post_id, "author_id": author_id})
        )


async def update_authored(
    stores: Stores, post_id: ObjectId, author_id: ObjectId, changes: Mapping[str, Any]
) -> PostDoc | None:
    """`$set` `changes` on `author_id`'s post; the document before, or None."""
    async with document_lock(stores, COLLECTION, post_id):
        return await stores.backend.write(
            lambda: stores.db.posts.find_one_and_update(
                {"_id": post_id, "author_id": author_id},
                {"$set": dict(changes)},
                return_document=ReturnDocument.BEFORE,
            )
        )


async def mark_ready(
    stores: Stores, post_id: ObjectId, media: list[dict[str, Any]], now: datetime
) -> PostDoc | None:
    """PROCESSING -> READY with its rendered media; the READY document, or None when the post
    is no longer PROCESSING (deleted or failed meanwhile)."""
    async with document_lock(stores, COLLECTION, post_id):
        return await stores.backend.write(
            lambda: stores.db.posts.find_one_and_update(
                {"_id": post_id, "status": PostStatus.PROCESSING},
                {
                    "$set": {
                        "media": media,
                        "status": PostStatus.READY,
                        "published_at": now,
                        "updated_at": now,
                    }
                },
                return_document=ReturnDocument.AFTER,
            )
        )


async def mark_failed(stores: Stores, post_id: ObjectId, reason: str) -> None:
    """PROCESSING -> FAILED with a reason (nothing when it is no longer PROCESSING)."""
    update = {
        "$set": {
            "status": PostStatus.FAILED,
            "failure_reason": reason,
            "updated_at": datetime.now(UTC),
        }
    }
    async with document_lock(stores, COLLECTION, post_id):
        await stores.backend.write(
            lambda: stores.db.posts.update_one(
                {"_id": post_id, "status": PostStatus.PROCESSING}, update
            )
        )


async def newest_ready(
    stores: Stores,
    authors: Sequence[ObjectId],
    limit: int,
    below: Position | None = None,
    projection: Mapping[str, int] | None = None,
) -> list[PostDoc]:
    """Up to `limit` READY posts of `authors`, newest first, strictly older than `below`."""
    if not authors:
        return []
    author_filter: Any = authors[0] if len(authors) == 1 else {"$in": list(authors)}
    flt = {"author_id": author_filter, "status": PostStatus.READY, **position_filter(below)}
    cursor = stores.db.posts.find(flt, projection).sort(_NEWEST).limit(limit)
    return [d async for d in cursor]


async def ready_since(stores: Stores, since: datetime) -> list[PostDoc]:
    """READY posts published at or after `since`, with what explore scores them by."""
    cursor = stores.db.posts.find(
        {"status": PostStatus.READY, "published_at": {"$gte": since}},
        {"author_id": 1, "published_at": 1, "like_count": 1, "comment_count": 1},
    )
    return [d async for d in cursor]


def all_ready(
    stores: Stores, projection: Mapping[str, int], batch_size: int = 5000
) -> AsyncCursor[PostDoc]:
    """Every READY post, streamed (the search index rebuild)."""
    return stores.db.posts.find({"status": PostStatus.READY}, projection).batch_size(batch_size)


async def stuck_processing_ids(
    stores: Stores, created_before: datetime, limit: int
) -> list[ObjectId]:
    cursor = stores.db.posts.find(
        {"status": PostStatus.PROCESSING, "created_at": {"$lt": created_before}},
        projection={"_id": 1},
    ).limit(limit)
    return [d["_id"] async for d in cursor]
