"""Who, among many viewers, may still see one post: the batched form of
`services.visibility.can_view_post`, so an event for a post watched by 10,000 people costs a
few Redis calls, not 10,000 visibility checks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from bson import ObjectId

from datastore import graph
from datastore.doc_cache import user_cache
from datastore.outages import REDIS_OUTAGE
from datastore.stores import Stores
from services.visibility import viewable_status


async def viewers_who_may_see(
    stores: Stores, post: dict, viewers: Iterable[ObjectId]
) -> set[ObjectId]:
    """The viewers among `viewers` who may see `post` now: one SMISMEMBER on the author's
    block set (blocks are stored both ways) and, for a private author, one ZMSCORE on the
    author's followers, whatever the number of viewers."""
    viewers = list(dict.fromkeys(viewers))
    owner_id = post["author_id"]
    [author] = await user_cache(stores).get_many([owner_id])
    if author is None:
        return set()
    allowed = {v for v in viewers if viewable_status(post, v)}
    others = [v for v in allowed if v != owner_id]
    blocked = await graph.blocked_among(stores, owner_id, others)
    visible = {v for v in allowed if v not in blocked}
    if author.get("is_private"):
        rest = [v for v in visible if v != owner_id]
        with contextlib.suppress(REDIS_OUTAGE):  # follow_scores then reads MongoDB
            await graph.ensure_graph_cache(stores, "followers", owner_id)
        flags = await graph.follow_scores(stores, "followers", owner_id, rest)
        visible = {v for v, f in zip(rest, flags, strict=True) if f} | (visible & {owner_id})
    return visible
