"""deletePost (author only): the post, its objects and its counts go now; likes, comments and
timeline entries go through `post.deleted` handlers (interactions, feed) and the worker."""

from __future__ import annotations

import logging

from bson import ObjectId

from core.errors import Forbidden, NotFound
from core.events import Deps, emit
from datastore import posts, uploads
from datastore.posts import PostStatus
from services.media_objects import delete_objects, item_keys, post_prefix
from services.post_counters import count_post

log = logging.getLogger(__name__)


async def delete_post(deps: Deps, viewer_id: ObjectId, post_id: ObjectId) -> bool:
    stores = deps.stores
    found = await posts.find_post(stores, post_id, projection={"author_id": 1})
    if found is None:
        raise NotFound("No such post")
    if found["author_id"] != viewer_id:
        raise Forbidden("Only the author can delete a post")
    post = await posts.delete_authored(stores, post_id, viewer_id)
    if post is None:
        raise NotFound("No such post")  # a concurrent delete won
    if post["status"] == PostStatus.READY:
        await count_post(stores, post, -1)
    keys = [k for item in post.get("media") or () for k in item_keys(item)]
    try:
        await delete_objects(stores, keys, [post_prefix(post_id)])
        await uploads.delete_post_uploads(stores, post_id)
    except Exception:
        # The post is gone either way; the worker retries the objects.
        log.exception("deleting objects of post %s failed; handing over to the worker", post_id)
        from worker import jobs
        from worker.queue import enqueue

        await enqueue(deps.queue, jobs.PURGE_POST_OBJECTS, post_id=str(post_id), keys=keys)
    await emit("post.deleted", deps, post_id=post_id, author_id=viewer_id)
    return True
