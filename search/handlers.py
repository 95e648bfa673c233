"""Keeps the search indexes up to date from domain events (listed in core.events.HANDLER_MODULES).

Handlers index inline (one `_id` read and one Redis transaction; no read at all for post.ready,
which carries the READY document), so a search right after a write sees it. If that fails
(Redis or MongoDB hiccup), the write itself must not fail: the handler logs and enqueues
`search_reindex`, which retries with the queue's backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bson import ObjectId

from core.events import Deps, on
from search import index
from worker import jobs
from worker.queue import enqueue

log = logging.getLogger(__name__)


async def _guard(
    deps: Deps, kind: str, target: ObjectId, run: Callable[[], Awaitable[None]]
) -> None:
    try:
        await run()
    except Exception as exc:
        log.warning(
            "search index update %s %s failed, retrying in the worker: %s", kind, target, exc
        )
        try:
            await enqueue(
                deps.queue,
                jobs.SEARCH_REINDEX,
                key=f"search:{kind}:{target}",
                kind=kind,
                id=str(target),
            )
        except Exception as exc2:  # nothing left to do but say so; a rebuild repairs it
            log.error("could not enqueue search_reindex %s %s: %s", kind, target, exc2)


async def reindex(stores: Any, kind: str, target: ObjectId) -> None:
    """Re-derive one object's index entries from MongoDB (used by handlers and the retry job)."""
    if kind == "user":
        await index.index_user(stores, target)
    elif kind == "post":
        await index.index_post(stores, target)
    elif kind == "engagement":
        await index.refresh_engagement(stores, target)
    else:
        raise ValueError(f"unknown search index kind {kind!r}")


@on("post.ready")
async def _post_ready(deps: Deps, *, post_id: ObjectId, post: dict | None = None, **_: Any) -> None:
    if post is None:
        await _post_changed(deps, post_id=post_id)
        return
    # The emitter's READY document: Redis writes only, no MongoDB read. On FerretDB 1.24 even
    # an `_id` read of a new post scans the collection (seconds on 100,000 posts), and the
    # emitting process (the media pipeline) waits for every post.ready handler.
    await _guard(deps, "post", post_id, lambda: index.index_post_doc(deps.stores, post))


@on("post.edited")
@on("post.deleted")
async def _post_changed(deps: Deps, *, post_id: ObjectId, **_: Any) -> None:
    # post.deleted also re-reads MongoDB: a deleted (or soft-deleted, non-READY) post is then
    # unindexed from what the index recorded for it.
    await _guard(deps, "post", post_id, lambda: index.index_post(deps.stores, post_id))


@on("post.liked")
@on("post.unliked")
@on("post.shared")
@on("comment.added")
@on("comment.deleted")
async def _engagement_changed(deps: Deps, *, post_id: ObjectId, **_: Any) -> None:
    await _guard(
        deps, "engagement", post_id, lambda: index.refresh_engagement(deps.stores, post_id)
    )


@on("user.registered")
@on("user.profile_changed")
async def _user_changed(deps: Deps, *, user_id: ObjectId, **_: Any) -> None:
    await _guard(deps, "user", user_id, lambda: index.index_user(deps.stores, user_id))


@on("user.followed")
@on("user.unfollowed")
async def _follower_count_changed(deps: Deps, *, followee_id: ObjectId, **_: Any) -> None:
    await _guard(deps, "user", followee_id, lambda: index.index_user(deps.stores, followee_id))
