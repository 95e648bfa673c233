"""Rendering a PROCESSING post's media (the worker's half of createPost).

Each item's original is decoded, oriented, stripped of metadata and rendered (media/); the
renditions go under posts/{post}/{index}/ with deterministic names, so a retried job overwrites
rather than duplicates. Then, in one conditional write, the post becomes READY (counters follow)
and post.ready is emitted; the originals are deleted because they still carry their metadata.
A file the pipeline refuses, or the last failed attempt, makes the post FAILED with a reason and
deletes every object the post had.

A post with a video is handed from the default queue to the video queue (when the worker wires
one), so a burst of transcodes never delays photos or fan-out. Each transcode attempt first
deletes everything under the post's prefix: an attempt killed halfway (worker SIGKILL) leaves
part of a ladder and HLS segments behind, and the retry starts again from none of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
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
from media.transcode import Transcoded
from media.transcode_process import transcode_in_child, work_dir
from media.video import process_video
from services.media_objects import delete_objects, hls_segment_counts, post_prefix
from services.post_counters import count_post

log = logging.getLogger(__name__)

JOB = "process_post_media"
TRANSCODE_JOB = "transcode_post_media"
_HLS_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}


async def enqueue_processing(queue: Queue, post_id: ObjectId) -> None:
    from worker import jobs
    from worker.queue import enqueue

    # Keyed by post: a second enqueue while one is queued or running is a no-op.
    await enqueue(
        queue, jobs.PROCESS_POST_MEDIA, key=f"{JOB}:{post_id}", post_id=str(post_id), timeout=600
    )


def job_key(post_id: ObjectId | str) -> str:
    return f"{JOB}:{post_id}"


def transcode_job_key(post_id: ObjectId | str) -> str:
    return f"{TRANSCODE_JOB}:{post_id}"


async def enqueue_transcode(video_queue: Queue, post_id: ObjectId, job_seconds: int) -> None:
    from worker import jobs

    await jobs.TRANSCODE_POST_MEDIA.enqueue(
        video_queue, key=transcode_job_key(post_id), post_id=str(post_id), timeout=job_seconds
    )


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
    poster = await _put_set(stores, prefix + "poster-", result.poster)
    settings = stores.settings
    with work_dir() as work:
        src = os.path.join(work, "source")
        await asyncio.to_thread(_write, src, data)
        del data
        out = os.path.join(work, "out")
        os.mkdir(out)
        encoded = await transcode_in_child(
            src,
            out,
            nice=settings.video_transcode_nice,
            limit_seconds=settings.video_job_timeout_seconds,
        )
        stored = await _put_video(stores, prefix, encoded)
    done.update(
        width=result.probe.width,
        height=result.probe.height,
        duration_seconds=round(encoded.duration_ms / 1000, 3),
        duration_ms=encoded.duration_ms,
        codec="h264",
        blurhash=poster["blurhash"],
        **stored,
        poster_renditions=poster["renditions"],
        poster_key=max(
            (r for r in poster["renditions"] if r["content_type"] == "image/webp"),
            key=lambda r: r["width"],
        )["key"],
        thumbnail=poster["thumbnail"],
    )
    return done


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


async def _put_file(stores: Stores, key: str, path: str, content_type: str) -> None:
    await stores.objects.put(key, await asyncio.to_thread(_read, path), content_type)


async def _put_video(stores: Stores, prefix: str, encoded: Transcoded) -> dict:
    """Upload a transcode's files; returns the item's fields that name them. The master
    playlist goes last, after everything it points at."""
    renditions = []
    for r in encoded.renditions:
        key = f"{prefix}video/{r.name}.mp4"
        await _put_file(stores, key, r.path, r.content_type)
        renditions.append(
            {
                "width": r.width,
                "height": r.height,
                "key": key,
                "content_type": r.content_type,
                "bitrate": r.bitrate,
            }
        )
    preview_key = f"{prefix}preview.mp4"
    await _put_file(stores, preview_key, encoded.preview.path, "video/mp4")
    names = sorted(encoded.hls_files, key=lambda n: n == "master.m3u8")
    for name in names:
        content_type = _HLS_TYPES[os.path.splitext(name)[1]]
        await _put_file(
            stores, f"{prefix}hls/{name}", os.path.join(encoded.hls_dir, name), content_type
        )
    return {
        "renditions": renditions,
        "source_key": renditions[-1]["key"],
        "preview_key": preview_key,
        "preview": {
            "width": encoded.preview.width,
            "height": encoded.preview.height,
            "bitrate": encoded.preview.bitrate,
        },
        "hls_key": f"{prefix}hls/master.m3u8",
        "hls_segments": hls_segment_counts(encoded.hls_files),
    }


def has_video(post: PostDoc) -> bool:
    return any(item["type"] == "VIDEO" for item in post["media"])


async def process_post_media(
    deps: Deps,
    post_id: ObjectId,
    *,
    final_attempt: bool,
    video_queue: Queue | None = None,
    transcoding: bool = False,
) -> str:
    """Render one post. Returns "ready", "failed", "skipped" (not PROCESSING any more) or
    "transcoding" (handed to `video_queue`). Raises on a transient error unless this is the
    final attempt, so the job is retried. Without a `video_queue` videos are rendered here."""
    stores = deps.stores
    post = await posts.find_processing(stores, post_id)
    if post is None:
        return "skipped"
    if video_queue is not None and not transcoding and has_video(post):
        await enqueue_transcode(video_queue, post_id, stores.settings.video_job_timeout_seconds)
        return "transcoding"
    if has_video(post):
        # Start from nothing: a killed attempt's partial ladder and segments go first.
        await delete_objects(stores, [], [post_prefix(post_id)])
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
        # Deleted (or failed) while rendering: its renditions must not outlive it. (Unless an
        # attempt thought dead finished first: then these keys are the READY post's.)
        current = await posts.find_post(stores, post_id, projection={"status": 1})
        if current is None or current["status"] != posts.PostStatus.READY:
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
