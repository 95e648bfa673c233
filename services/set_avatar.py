"""Profile pictures through the media pipeline: square renditions, metadata stripped.

Called by the accounts engineer's updateProfile. An avatar is one image, so it is rendered
right here (in a thread) and the caller gets the finished avatar back, not a PROCESSING state.
"""

from __future__ import annotations

import asyncio

from bson import ObjectId

from core.errors import BadInput, NotFound
from core.events import Deps
from datastore.accounts import replace_avatar
from datastore.uploads import delete_upload
from media.images import process_avatar
from media.probe import MediaLimits, probe
from services.create_post import _discard_upload, _pending_uploads
from services.media_objects import avatar_prefix, delete_objects, item_keys, read_upload
from services.process_post_media import _put_set


async def set_avatar(deps: Deps, user_id: ObjectId, upload_id: ObjectId) -> dict:
    """Make the upload `upload_id` (from createUploadUrl, owned by `user_id`) the user's avatar.
    Returns the stored media item. BadInput for a missing/foreign/expired upload or a file that
    is not an acceptable image (the refused upload is deleted)."""
    uploads = await _pending_uploads(deps, user_id, [upload_id])
    upload = uploads[upload_id]
    limits = MediaLimits.from_settings(deps.stores.settings)
    try:
        data = await read_upload(deps.stores, upload["key"], limits.max_bytes)
        item = await _set_from_bytes(deps, user_id, data, limits)
    except BadInput:
        await _discard_upload(deps, upload)
        raise
    # The original still carries its metadata; only the renditions are kept.
    await deps.stores.objects.delete_many([upload["key"]])
    await delete_upload(deps.stores, upload_id)
    return item


async def set_avatar_from_bytes(deps: Deps, user_id: ObjectId, data: bytes) -> dict:
    """The same from the bytes of a multipart file."""
    return await _set_from_bytes(
        deps, user_id, data, MediaLimits.from_settings(deps.stores.settings)
    )


async def remove_avatar(deps: Deps, user_id: ObjectId) -> None:
    await _replace(deps, user_id, None)


async def _set_from_bytes(deps: Deps, user_id: ObjectId, data: bytes, limits: MediaLimits) -> dict:
    found = await asyncio.to_thread(probe, data, limits)
    if found.type != "PHOTO":
        raise BadInput("An avatar must be an image (JPEG, PNG, WebP or HEIC)")
    images = await asyncio.to_thread(process_avatar, data, found.kind, limits)
    prefix = avatar_prefix(user_id, ObjectId())
    stored = await _put_set(deps.stores, prefix, images)
    item = {
        "type": "PHOTO",
        "kind": found.kind,
        "width": images.width,
        "height": images.height,
        "blurhash": stored["blurhash"],
        "source_key": None,
        "renditions": stored["renditions"],
        "thumbnail": stored["thumbnail"],
        "duration_seconds": None,
        "codec": None,
        "poster_key": None,
        "poster_renditions": [],
    }
    try:
        await _replace(deps, user_id, item)
    except BaseException:
        await delete_objects(deps.stores, [], [prefix])
        raise
    return item


async def _replace(deps: Deps, user_id: ObjectId, item: dict | None) -> None:
    stores = deps.stores
    before = await replace_avatar(stores, user_id, item)
    if before is None:
        raise NotFound("No such user")
    await stores.objects.delete_many(item_keys(before.get("avatar")))
