"""addComment: 1 to 2,200 characters, optionally replying to a comment of the same post.

Replies are one level deep, as on Instagram: a reply to a reply attaches to the top-level
comment. Every comment document inserted adds one to the post's `comment_count` and every one
deleted (by whoever deletes it) removes one, so the count stays equal to the collection even
when a reply races the deletion of its parent.
"""

from __future__ import annotations

from bson import ObjectId

from core.errors import BadInput, NotFound
from core.events import Deps
from datastore import comments
from datastore.comments import CommentDoc
from datastore.doc_cache import comment_cache
from datastore.post_counters import add_to_post_counters
from realtime.channels import publish_post_update
from services.after_commit import emit_committed
from services.comment_threads import add_to_thread
from services.interactions_base import COMMENT_MAX_CHARS, load_visible_post, now
from services.rate_limits import check_rate_limit


def clean_comment_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise BadInput("A comment cannot be empty", argument="text")
    if len(text) > COMMENT_MAX_CHARS:
        raise BadInput(
            f"A comment has at most {COMMENT_MAX_CHARS} characters",
            argument="text",
            maximum=COMMENT_MAX_CHARS,
        )
    return text


async def add_comment(
    deps: Deps,
    viewer_id: ObjectId,
    post_id: ObjectId,
    text: str,
    reply_to_id: ObjectId | None = None,
) -> CommentDoc:
    stores = deps.stores
    text = clean_comment_text(text)
    await load_visible_post(stores, viewer_id, post_id)
    await check_rate_limit(stores, "comment", viewer_id)
    cache = comment_cache(stores)
    root_id: ObjectId | None = None
    if reply_to_id is not None:
        (parent,) = await cache.get_many([reply_to_id])
        if parent is None or parent["post_id"] != post_id:
            raise NotFound("The comment to reply to was not found on this post")
        root_id = parent.get("reply_to_id") or parent["_id"]
    doc = comments.new_comment(post_id, viewer_id, text, root_id, now())
    await comments.insert_comment(stores, doc)
    if await add_to_post_counters(stores, post_id, {"comment_count": 1}) is None:
        await comments.delete_comment(stores, doc["_id"])
        raise NotFound("Post not found")
    if root_id is not None and not await comments.add_to_reply_count(stores, root_id, 1):
        # The parent was deleted meanwhile; whoever deletes our reply takes its count back.
        if await comments.delete_comment(stores, doc["_id"]):
            await add_to_post_counters(stores, post_id, {"comment_count": -1})
        raise NotFound("The comment to reply to was deleted")
    if root_id is not None:
        await cache.invalidate([root_id])  # its reply_count moved
    await cache.prime([doc])
    await add_to_thread(stores, doc)
    await emit_committed(
        "comment.added", deps, comment_id=doc["_id"], post_id=post_id, author_id=viewer_id
    )
    await publish_post_update(stores, post_id)
    return doc
