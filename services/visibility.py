"""Who may see whose content. One place, used by every path that reaches posts and lists.

A user's posts, followers and following are visible to everyone for a public account, and for a
private account only to the owner and approved followers. Blocking (either direction) hides
everything. A post is visible when it is READY and its author's content is (`can_view_post`);
its author always sees it. `visible_posts` is the batched form, for lists.

Reads go to Redis (datastore/graph.py): the viewer's block set (SMISMEMBER) and the follow
zsets, verified against the exact counters on the user documents, so no MongoDB scan happens
on FerretDB. When Redis is down, graph.py answers the same questions from MongoDB (primary-key
reads of the edges): a check never fails open.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence

from bson import ObjectId

from core.errors import Forbidden
from datastore import graph
from datastore.doc_cache import user_cache
from datastore.outages import REDIS_OUTAGE
from datastore.posts import READY, PostDoc
from datastore.stores import Stores


async def blocked_between(stores: Stores, a: ObjectId, b: ObjectId) -> bool:
    """Has either of `a` and `b` blocked the other?"""
    return bool(await graph.blocked_among(stores, a, [b]))


async def is_following(stores: Stores, follower: ObjectId, followee: ObjectId | dict) -> bool:
    """Does `follower` follow `followee` (an id, or the user document when at hand)?"""
    return await graph.is_following(stores, follower, followee)


async def can_see_content(stores: Stores, viewer: ObjectId | None, owner: dict) -> bool:
    """May `viewer` (None: anonymous) see the posts and lists of the user document `owner`?"""
    owner_id = owner["_id"]
    if viewer == owner_id:
        return True
    if viewer is not None and await blocked_between(stores, viewer, owner_id):
        return False
    if not owner.get("is_private"):
        return True
    return viewer is not None and await graph.is_following(stores, viewer, owner)


async def require_content_access(stores: Stores, viewer: ObjectId | None, owner: dict) -> None:
    """`can_see_content` or FORBIDDEN."""
    if not await can_see_content(stores, viewer, owner):
        raise Forbidden("This account's content is visible to its approved followers only")


async def visible_owner_ids(
    stores: Stores, viewer: ObjectId | None, owners: Iterable[dict]
) -> set[ObjectId]:
    """Batched `can_see_content`: the ids among `owners` whose content `viewer` may see, with a
    few Redis calls (and at most one MongoDB `_id` read) whatever the number of owners."""
    owners = list({o["_id"]: o for o in owners}.values())
    if not owners:
        return set()
    if viewer is None:
        return {o["_id"] for o in owners if not o.get("is_private")}
    others = [o["_id"] for o in owners if o["_id"] != viewer]
    blocked = await graph.blocked_among(stores, viewer, others)
    private = [
        o["_id"]
        for o in owners
        if o.get("is_private") and o["_id"] != viewer and o["_id"] not in blocked
    ]
    followed: set[ObjectId] = set()
    if private:
        with contextlib.suppress(REDIS_OUTAGE):  # follow_scores then reads MongoDB
            await graph.ensure_graph_cache(stores, "following", viewer)
        flags = await graph.follow_scores(stores, "following", viewer, private)
        followed = {oid for oid, f in zip(private, flags, strict=True) if f}
    visible: set[ObjectId] = set()
    for o in owners:
        oid = o["_id"]
        if oid == viewer or (oid not in blocked and (not o.get("is_private") or oid in followed)):
            visible.add(oid)
    return visible


def viewable_status(post: PostDoc, viewer: ObjectId | None) -> bool:
    """Only READY posts exist for anyone but their author."""
    return post.get("status") == READY or post.get("author_id") == viewer


async def can_view_post(
    stores: Stores, viewer: ObjectId | None, post: PostDoc, author: dict | None = None
) -> bool:
    """May `viewer` see `post`? `author`: its author's document when at hand (else read
    through the document cache). A missing author hides the post."""
    if not viewable_status(post, viewer):
        return False
    if author is None:
        [author] = await user_cache(stores).get_many([post["author_id"]])
        if author is None:
            return False
    return await can_see_content(stores, viewer, author)


async def visible_posts(
    stores: Stores, viewer: ObjectId | None, posts: Sequence[PostDoc | None]
) -> list[PostDoc | None]:
    """Batched `can_view_post`: each of `posts` if `viewer` may see it, else None, in order.
    One cached read of the authors and the few Redis calls of `visible_owner_ids`, whatever
    the number of posts."""
    author_ids = list({p["author_id"] for p in posts if p is not None})
    authors = [u for u in await user_cache(stores).get_many(author_ids) if u is not None]
    visible = await visible_owner_ids(stores, viewer, authors)
    return [
        p if p is not None and p["author_id"] in visible and viewable_status(p, viewer) else None
        for p in posts
    ]
