"""What each stored counter counts, and how to recount it from the edge collections.

The counters are denormalized for the read paths; the edges are the truth. A recount is a
`count_documents` over the edges of one document (a scan on FerretDB, so only the reconciler,
the slow pass and `photogram doctor` run them, never a request).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from bson import ObjectId

from datastore.dirty import DirtyKind
from datastore.posts import READY
from datastore.stores import Stores


@dataclass(frozen=True, slots=True)
class Counted:
    """`field` of a document counts the `edges` documents whose `by` is the document's `_id`
    (and that match `where`)."""

    field: str
    edges: str
    by: str
    where: dict = dataclass_field(default_factory=dict)
    unwind: bool = False  # `by` is an array (a post's hashtags)

    def match(self, _id: Any) -> dict:
        return {**self.where, self.by: _id}

    def group_pipeline(self) -> list[dict]:
        """Every document's count in one aggregation (`photogram doctor`'s whole-collection
        check: one scan per counter instead of one per document)."""
        stages: list[dict] = [{"$match": dict(self.where)}] if self.where else []
        if self.unwind:
            stages.append({"$unwind": f"${self.by}"})
        stages.append({"$group": {"_id": f"${self.by}", "n": {"$sum": 1}}})
        return stages


_READY = {"status": READY}
COUNTERS: dict[DirtyKind, tuple[Counted, ...]] = {
    "posts": (
        Counted("like_count", "likes", "post_id"),
        Counted("comment_count", "comments", "post_id"),
        Counted("share_count", "shares", "post_id"),
    ),
    "users": (
        Counted("follower_count", "follows", "followee_id"),
        Counted("following_count", "follows", "follower_id"),
        Counted("post_count", "posts", "author_id", _READY),
    ),
    "hashtags": (Counted("post_count", "posts", "hashtags", _READY, unwind=True),),
    "locations": (Counted("post_count", "posts", "location.id", _READY),),
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


async def all_truths(stores: Stores, kind: DirtyKind) -> dict[str, dict[Any, int]]:
    """field -> {document id -> recount} for every document of `kind` with edges."""
    out: dict[str, dict[Any, int]] = {}
    for c in COUNTERS[kind]:
        cursor = await stores.db[c.edges].aggregate(c.group_pipeline())
        out[c.field] = {row["_id"]: int(row["n"]) async for row in cursor}
    return out
