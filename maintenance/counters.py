"""What each stored counter counts, and how to recount it from the edge collections.

The counters are denormalized for the read paths; the edges are the truth. A recount is a
`count_documents` over the edges of one document (a scan on FerretDB, so only the reconciler,
the slow pass and `photogram doctor` run them, never a request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from datastore.dirty import DirtyKind
from datastore.posts import READY
from datastore.stores import Stores


@dataclass(frozen=True, slots=True)
class Counted:
    """`field` of a `collection` document counts the `edges` documents matching `match(id)`."""

    field: str
    edges: str
    match: Callable[[Any], dict]


COUNTERS: dict[DirtyKind, tuple[Counted, ...]] = {
    "posts": (
        Counted("like_count", "likes", lambda i: {"post_id": i}),
        Counted("comment_count", "comments", lambda i: {"post_id": i}),
        Counted("share_count", "shares", lambda i: {"post_id": i}),
    ),
    "users": (
        Counted("follower_count", "follows", lambda i: {"followee_id": i}),
        Counted("following_count", "follows", lambda i: {"follower_id": i}),
        Counted("post_count", "posts", lambda i: {"author_id": i, "status": READY}),
    ),
    "hashtags": (Counted("post_count", "posts", lambda i: {"hashtags": i, "status": READY}),),
    "locations": (Counted("post_count", "posts", lambda i: {"location.id": i, "status": READY}),),
}


def doc_id(kind: DirtyKind, member: str) -> Any:
    """The `_id` a dirty mark names: hashtags are keyed by name, the rest by ObjectId."""
    if kind == "hashtags":
        return member
    return ObjectId(member) if ObjectId.is_valid(member) else None


async def stored(stores: Stores, kind: DirtyKind, _id: Any) -> dict[str, int] | None:
    """The counters as MongoDB holds them now (not the cache); None: no such document."""
    fields = {c.field: 1 for c in COUNTERS[kind]}
    doc = await stores.db[kind].find_one({"_id": _id}, projection=fields)
    if doc is None:
        return None
    return {c.field: int(doc.get(c.field) or 0) for c in COUNTERS[kind]}


async def truth(stores: Stores, kind: DirtyKind, _id: Any) -> dict[str, int]:
    """Each counter recounted from its edges."""
    return {c.field: await stores.db[c.edges].count_documents(c.match(_id)) for c in COUNTERS[kind]}
