"""Rendering a PROCESSING post's media (the worker's half of createPost).

Each item's original is decoded, oriented, stripped of metadata and rendered (media/); the
renditions go under posts/{post}/{index}/ with deterministic names, so a retried job overwrites
rather than duplicates. Then, in one conditional write, the post becomes READY (counters follow)
and post.ready is emitted; the originals are deleted because they still carry their metadata.
A file the pipeline refuses, or the last failed attempt, makes the post FAILED with a reason and
deletes every object the post had.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from bson import ObjectId
from saq import Queue

from core.errors import BadInput
from core.events import Deps, emit
from datastore import posts, uploads
from datastore.posts import PostDoc
from datastore.stores import Stores
from media.images import ImageSet, process_photo
from media.probe import MediaLimits
from media.video import process_video
from services.media_objects import delete_objects, post_prefix
from services.post_counters import count_post

log = logging.getLogger(__name__)

JOB = "process_post_media"


async def enqueue_processing(queue: Queue, post_id: ObjectId) -> None:
    from worker import jobs
    from worker.queue import enqueue

    # Keyed by post: a second enqueue while one is queued or running is a no-op.
    await enqueue(
        queue, jobs.PROCESS_POST_MEDIA, key=f"{JOB}:{post_id}", post_id=str(post_id), timeout=600
    )


def job_key(post_id: ObjectId | str) -> str:
    return f"{JOB}:{post_id}"


async def _put_set(stores: Stores, prefix: str, images: ImageSet) -> dict:
    """Store an image set; returns its stored shape (keys, sizes, types)."""
    renditions = []
    for r in images.renditions:
        await stores.objects.put(prefix + r.name, r.data, r.content_type)
        renditions.append(
            {
                "width": r.width,
                "height": r.height,
                "key": prefix + r.name,
                "content_type": r.content_type,
            }
        )
    thumb = images.thumbnail
    thumbnail = None
    if thumb is not None:
        await stores.objects.put(prefix + thumb.name, thumb.data, thumb.content_type)
        thumbnail = {
            "width": thumb.width,
            "height": thumb.height,
            "key": prefix + thumb.name,
            "content_type": thumb.content_type,
        }
    return {"renditions": renditions, "thumbnail": thumbnail, "blurhash": images.blurhash}


async def render_item(stores: Stores, post_id: ObjectId, index: int, item: dict) -> dict:
    limits = MediaLimits.from_settings(stores.settings)
    data = await stores.objects.get(item["upload_key"])
    prefix = f"{post_prefix(post_id)}{index}/"
    done = {**item, "upload_id": None, "upload_key": None}
    if item["type"] == "PHOTO":
        images = await asyncio.to_thread(process_photo, data, item["kind"], limits)
        del data
        stored = await _put_set(stores, prefix, images)
        done.update(stored, width=images.width, height=images.height)
        return done
    result = await asyncio.to_thread(process_video, data, item["kind"], limits)
    del data
    video_key = prefix + "video.mp4"
    await stores.objects.put(video_key, result.video, "video/mp4")
    poster = await _put_set(stores, prefix + "poster-", result.poster)
    probe = result.probe
    done.update(
        width=probe.width,
        height=probe.height,
        duration_seconds=probe.duration_seconds,
        codec=probe.codec,
        blurhash=poster["blurhash"],
        source_key=video_key,
        renditions=[
            {
                "width": probe.width,
                "height": probe.height,
                "key": video_key,
                "content_type": "video/mp4",
            }
        ],
        poster_renditions=poster["renditions"],
        poster_key=max(
            (r for r in poster["renditions"] if r["content_type"] == "image/webp"),
            key=lambda r: r["width"],
        )["key"],
        thumbnail=poster["thumbnail"],
    )
    return done


async def process_post_media(deps: Deps, post_id: ObjectId, *, final_attempt: bool) -> str:
    """Render one post. Returns "ready", "failed" or "skipped" (not PROCESSING any more).
    Raises on a transient error unless this is the final attempt, so the job is retried."""
    stores = deps.stores
    post = await posts.find_processing(stores, post_id)
    if post is None:
        return "skipped"
    try:
        media = [
            await render_item(stores, post_id, i, item) for i, item in enumerate(post["media"])
        ]
    except BadInput as exc:
        await fail_post(stores, post, exc.message)
        return "failed"
    except Exception as exc:
        if not final_attempt:
            raise
        log.exception("processing post %s failed for good", post_id)
        await fail_post(stores, post, f"Processing error: {type(exc).__name__}")
        return "failed"

    now = datetime.now(UTC)
    ready = await posts.mark_ready(stores, post_id, media, now)
    if ready is None:
        # Deleted (or failed) while rendering: its renditions must not outlive it.
        await delete_objects(stores, [], [post_prefix(post_id)])
        return "skipped"
    await count_post(stores, ready, +1)
    await _drop_originals(stores, post)
    # `post`: the handlers need not read the new post back (a scan on FerretDB).
    await emit("post.ready", deps, post_id=post_id, author_id=ready["author_id"], post=ready)
    return "ready"


async def _drop_originals(stores: Stores, post: PostDoc) -> None:
    keys = [item["upload_key"] for item in post["media"] if item.get("upload_key")]
    await stores.objects.delete_many(keys)
    await uploads.delete_post_uploads(stores, post["_id"])


async def fail_post(stores: Stores, post: PostDoc, reason: str) -> None:
    post_id = post["_id"]
    await posts.mark_failed(stores, post_id, reason)
    await delete_objects(stores, [], [post_prefix(post_id)])
    await _drop_originals(stores, post)
    log.warning("post %s failed: %s", post_id, reason)
