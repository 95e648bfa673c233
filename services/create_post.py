"""createPost: validate everything that can be validated now, store the originals, insert the
post as PROCESSING and hand rendering to the worker (process_post_media).

Bad input of any kind (caption, media count, a file that is not what it claims, too big, a
decompression bomb, someone else's or an expired upload) is refused with BAD_USER_INPUT before
a post exists, and the refused file is deleted, so nothing is left behind.
"""

from __future__ import annotations

import asyncio
import logging
import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from bson import ObjectId

from core.errors import BadInput, Conflict
from core.events import Deps
from datastore import posts, uploads
from datastore.outages import REDIS_OUTAGE
from datastore.posts import PostDoc, PostStatus
from datastore.uploads import UploadDoc, UploadStatus
from media.probe import MediaLimits, Probe, probe
from services.media_objects import read_upload, upload_key
from services.post_counters import upsert_location
from services.rate_limits import check_rate_limit
from services.text import parse_hashtags, parse_mentions

log = logging.getLogger(__name__)

MAX_MEDIA = 10
MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_LOCATION_NAME = 200


@dataclass(frozen=True, slots=True)
class MediaArg:
    """One carousel item: an upload from createUploadUrl, or the bytes of a multipart file."""

    upload_id: ObjectId | None = None
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class LocationArg:
    name: str
    lat: float | None = None
    lng: float | None = None


def check_caption(caption: str | None) -> tuple[str, list[str], list[str]]:
    """The caption as stored (NFC), its hashtags and mentions; BadInput over the limits."""
    text = unicodedata.normalize("NFC", caption or "")
    if len(text) > MAX_CAPTION:
        raise BadInput(
            f"The caption is {len(text)} characters; the limit is {MAX_CAPTION}",
            argument="caption",
            maxLength=MAX_CAPTION,
        )
    hashtags = parse_hashtags(text)
    if len(hashtags) > MAX_HASHTAGS:
        raise BadInput(
            f"The caption has {len(hashtags)} hashtags; the limit is {MAX_HASHTAGS}",
            argument="caption",
            maxHashtags=MAX_HASHTAGS,
        )
    return text, hashtags, parse_mentions(text)


def check_location(location: LocationArg | None) -> LocationArg | None:
    if location is None:
        return None
    name = " ".join(unicodedata.normalize("NFC", location.name).split())
    if not name or len(name) > MAX_LOCATION_NAME:
        raise BadInput(f"A location needs a name of 1 to {MAX_LOCATION_NAME} characters")
    lat, lng = location.lat, location.lng
    if (lat is None) != (lng is None):
        raise BadInput("Give both lat and lng, or neither")
    if lat is not None and lng is not None:
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            raise BadInput("lat must be between -90 and 90")
        if not (math.isfinite(lng) and -180 <= lng <= 180):
            raise BadInput("lng must be between -180 and 180")
    return LocationArg(name, lat, lng)


async def _discard_upload(deps: Deps, upload: UploadDoc) -> None:
    """Forget an upload whose file was refused: it can never become a post."""
    try:
        await deps.stores.objects.delete_many([upload["key"]])
    finally:
        await uploads.delete_upload(deps.stores, upload["_id"], only_pending=True)


async def _pending_uploads(
    deps: Deps, owner_id: ObjectId, ids: list[ObjectId]
) -> dict[ObjectId, UploadDoc]:
    if len(set(ids)) != len(ids):
        raise BadInput("The same upload is used twice")
    found = await uploads.uploads_by_id(deps.stores, ids)
    now = datetime.now(UTC)
    for index, upload_id in enumerate(ids):
        doc = found.get(upload_id)
        # Another user's upload is reported exactly like a missing one: ids reveal nothing.
        if doc is None or doc["owner_id"] != owner_id:
            raise BadInput(f"media[{index}]: no such upload", index=index)
        if doc["status"] != UploadStatus.PENDING:
            raise BadInput(f"media[{index}]: this upload is already used by a post", index=index)
        if doc["expires_at"] <= now:
            await _discard_upload(deps, doc)
            raise BadInput(f"media[{index}]: this upload has expired", index=index)
    return found


async def probe_all(
    deps: Deps, owner_id: ObjectId, media: list[MediaArg], pending: dict[ObjectId, UploadDoc]
) -> list[tuple[Probe, bytes | None]]:
    """Check every item's bytes; returns each probe and, for multipart items, the bytes."""
    limits = MediaLimits.from_settings(deps.stores.settings)
    out: list[tuple[Probe, bytes | None]] = []
    for index, item in enumerate(media):
        upload = pending.get(item.upload_id) if item.upload_id else None
        try:
            if upload is not None:
                data = await read_upload(deps.stores, upload["key"], limits.max_bytes)
            else:
                data = item.data or b""
            found = await asyncio.to_thread(probe, data, limits)
        except BadInput as exc:
            if upload is not None:
                await _discard_upload(deps, upload)
            raise BadInput(f"media[{index}]: {exc.message}", index=index, **exc.extensions) from exc
        out.append((found, None if upload is not None else data))
    return out


def media_item(found: Probe, key: str, upload_id: ObjectId) -> dict:
    """A media item before processing: what the probe learnt, and where the original is."""
    return {
        "type": found.type,
        "kind": found.kind,
        "width": found.width,
        "height": found.height,
        "blurhash": None,
        "source_key": None,
        "renditions": [],
        "thumbnail": None,
        "duration_seconds": found.duration_seconds,
        "codec": found.codec,
        "poster_key": None,
        "poster_renditions": [],
        "upload_id": upload_id,
        "upload_key": key,
    }


async def create_post(
    deps: Deps,
    author_id: ObjectId,
    media: list[MediaArg],
    caption: str | None = None,
    location: LocationArg | None = None,
) -> PostDoc:
    stores = deps.stores
    if not 1 <= len(media) <= MAX_MEDIA:
        raise BadInput(
            f"A post has 1 to {MAX_MEDIA} media items, not {len(media)}",
            argument="media",
            maxItems=MAX_MEDIA,
        )
    for index, item in enumerate(media):
        if (item.upload_id is None) == (item.data is None):
            raise BadInput(f"media[{index}]: give exactly one of file and uploadId", index=index)
    text, hashtags, mentions = check_caption(caption)
    place = check_location(location)
    upload_ids = [m.upload_id for m in media if m.upload_id is not None]
    pending = await _pending_uploads(deps, author_id, upload_ids)
    # Counted before the expensive part, after the checks that cost nothing.
    await check_rate_limit(stores, "post", author_id)
    probes = await probe_all(deps, author_id, media, pending)

    now = datetime.now(UTC)
    post_id = ObjectId()
    claimed: list[ObjectId] = []
    stored: list[ObjectId] = []
    try:
        for upload_id in upload_ids:
            if not await uploads.claim_upload(stores, upload_id, author_id, post_id, now):
                raise Conflict("An upload was used by another post at the same time")
            claimed.append(upload_id)
        items = []
        for item, (found, data) in zip(media, probes, strict=True):
            if item.upload_id is not None:
                upload = pending[item.upload_id]
                items.append(media_item(found, upload["key"], upload["_id"]))
                continue
            upload_id = ObjectId()
            key = upload_key(author_id, upload_id)
            # The record first, so the sweeper never takes the object for a stray.
            await uploads.insert_upload(
                stores,
                {
                    "_id": upload_id,
                    "owner_id": author_id,
                    "key": key,
                    "content_type": f"{found.type.lower()}/{found.kind}",
                    "size": len(data or b""),
                    "status": UploadStatus.ATTACHED,
                    "post_id": post_id,
                    "created_at": now,
                    "attached_at": now,
                    "expires_at": now,
                },
            )
            stored.append(upload_id)
            await stores.objects.put(key, data or b"", "application/octet-stream")
            items.append(media_item(found, key, upload_id))
        loc = await upsert_location(stores, place.name, place.lat, place.lng) if place else None
        doc: PostDoc = {
            "_id": post_id,
            "author_id": author_id,
            "status": PostStatus.PROCESSING,
            "failure_reason": None,
            "caption": text,
            "hashtags": hashtags,
            "mentions": mentions,
            "location": loc,
            "media": items,
            "like_count": 0,
            "comment_count": 0,
            "share_count": 0,
            "created_at": now,
            "published_at": None,
            "updated_at": now,
        }
        await posts.insert_post(stores, doc)
    except BaseException:
        await _undo(deps, author_id, claimed, stored)
        raise
    from services.process_post_media import enqueue_processing

    try:
        await enqueue_processing(deps.queue, post_id)
    except REDIS_OUTAGE as exc:
        # repair: the post is saved as PROCESSING; the worker's sweep re-enqueues posts stuck
        # there (services/sweep_uploads.py, STUCK_PROCESSING_AGE) once Redis is back.
        log.warning("post %s saved, its processing job not queued (Redis down): %s", post_id, exc)
    return doc


async def _undo(
    deps: Deps, author_id: ObjectId, claimed: list[ObjectId], stored: list[ObjectId]
) -> None:
    try:
        if claimed:
            await uploads.release_uploads(deps.stores, claimed)
        if stored:
            await deps.stores.objects.delete_many([upload_key(author_id, u) for u in stored])
            await uploads.delete_uploads(deps.stores, stored)
    except Exception:  # the original error matters more; the sweeper collects the rest
        log.exception("could not undo a failed createPost")
