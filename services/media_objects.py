"""Where post, upload and avatar objects live in the bucket, and the reads/deletes of them that
the posts services share. Key layout:

  uploads/{owner}/{upload}          a client's original, until processed or swept
  posts/{post}/{index}/{name}       renditions of one media item of a post; a video's are
                                    video/{rung}.mp4, preview.mp4, poster-*, and
                                    hls/master.m3u8, hls/{rung}.m3u8, hls/{rung}_NNN.ts
  avatars/{user}/{version}/{name}   square renditions of a profile picture
"""

from __future__ import annotations

import asyncio
import logging

from bson import ObjectId
from minio.error import S3Error

from core.errors import BadInput
from datastore.stores import Stores

log = logging.getLogger(__name__)


def upload_key(owner_id: ObjectId, upload_id: ObjectId) -> str:
    return f"uploads/{owner_id}/{upload_id}"


def post_prefix(post_id: ObjectId) -> str:
    return f"posts/{post_id}/"


def avatar_prefix(user_id: ObjectId, version: ObjectId) -> str:
    return f"avatars/{user_id}/{version}/"


def item_keys(item: dict | None) -> list[str]:
    """Every object key a stored media item references."""
    if not item:
        return []
    keys = [r["key"] for r in item.get("renditions") or ()]
    keys += [r["key"] for r in item.get("poster_renditions") or ()]
    for name in ("thumbnail",):
        if item.get(name):
            keys.append(item[name]["key"])
    for name in ("source_key", "poster_key", "upload_key", "preview_key", "hls_key"):
        if item.get(name):
            keys.append(item[name])
    if item.get("hls_key"):
        keys += hls_keys(item["hls_key"], item.get("hls_segments") or {})
    return list(dict.fromkeys(keys))


def hls_segment_counts(names: list[str]) -> dict[str, int]:
    """{rung: number of segments} from the files of an HLS folder ({rung}_NNN.ts): stored
    instead of every segment's key, which `hls_keys` derives back."""
    counts: dict[str, int] = {}
    for name in names:
        if name.endswith(".ts"):
            rung = name.rsplit("_", 1)[0]
            counts[rung] = counts.get(rung, 0) + 1
    return counts


def hls_keys(master_key: str, segments: dict[str, int]) -> list[str]:
    folder = master_key.rsplit("/", 1)[0]
    keys = []
    for rung, count in segments.items():
        keys.append(f"{folder}/{rung}.m3u8")
        keys += [f"{folder}/{rung}_{i:03d}.ts" for i in range(count)]
    return keys


async def object_size(stores: Stores, key: str) -> int | None:
    """Size of an object, or None when it does not exist."""

    def _stat() -> int | None:
        try:
            return stores.objects.client.stat_object(stores.objects.bucket, key).size
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return None
            raise

    return await asyncio.to_thread(_stat)


async def read_upload(stores: Stores, key: str, max_bytes: int) -> bytes:
    """The bytes a client PUT to a presigned URL, refusing a missing or oversized object before
    reading it (a presigned PUT cannot bound the size the client sends)."""
    size = await object_size(stores, key)
    if size is None:
        raise BadInput("Nothing was uploaded to this upload URL")
    if size > max_bytes:
        raise BadInput(
            f"The file is {size} bytes; the limit is {max_bytes} bytes", maxBytes=max_bytes
        )
    if size == 0:
        raise BadInput("The file is empty")
    return await stores.objects.get(key)


async def delete_objects(stores: Stores, keys: list[str], prefixes: list[str] = ()) -> None:  # type: ignore[assignment]
    """Delete `keys` and everything under `prefixes`."""
    found = list(keys)
    for prefix in prefixes:
        found += await stores.objects.list_keys(prefix)
    await stores.objects.delete_many(list(dict.fromkeys(found)))


def pick_rendition(
    renditions: list[dict], width: int | None, content_type: str | None = None
) -> dict | None:
    """The rendition to serve for a requested display width: the smallest at least that wide,
    else the widest (never upscaled). No width: the widest. `content_type` filters first and
    falls back to all renditions when none has that type."""
    # One pass, no sort: this runs for every media URL of a feed page. Among equal widths the
    # first is the smallest fit and the last the widest, as a stable sort would give.
    fit: dict | None = None
    widest: dict | None = None
    for r in renditions:
        if content_type is not None and r["content_type"] != content_type:
            continue
        w = r["width"]
        if widest is None or w >= widest["width"]:
            widest = r
        if width is not None and w >= width and (fit is None or w < fit["width"]):
            fit = r
    if widest is None:
        return pick_rendition(renditions, width) if content_type is not None else None
    return widest if width is None else fit or widest
