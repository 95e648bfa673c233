"""A bench-only variant of the app that prototypes one proposed speed-up; `make run` never uses
it, and nothing under feed/ or datastore/ changes.

Every feed page calls `datastore.graph.following_ids(viewer)`, which checks the `following:`
zset against the viewer's exact `following_count` with a MongoDB read (`ensure_graph_cache`
without `expected`): the page's only MongoDB command once caches are warm. Here that counter is
read through the Redis document cache instead (datastore/doc_cache.py: the cache the authors'
loader already reads, invalidated by the follow/unfollow/block handlers, TTL 120 s), so a warm
feed page never waits on MongoDB. A stale counter can only cause an unneeded rebuild from
MongoDB, never a wrong answer.

    uvicorn bench.variant_app:app --workers 2
"""

from __future__ import annotations

from bson import ObjectId

import datastore.graph as graph
from datastore.doc_cache import user_cache
from datastore.stores import Stores


async def _expected_count_cached(
    stores: Stores, kind: graph.GraphKind, user_id: ObjectId
) -> int | None:
    [doc] = await user_cache(stores).get_many([user_id])
    return None if doc is None else int(doc.get(graph._COUNT_FIELD[kind], 0))


graph._expected_count = _expected_count_cached

from app import app  # noqa: E402  (imported after the patch, which it must see)

__all__ = ["app"]
