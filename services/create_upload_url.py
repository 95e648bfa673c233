"""createUploadUrl: a presigned PUT so a client uploads straight to object storage.

The `uploads` record and the URL expire together; the worker's `sweep_uploads` cron (every
5 minutes) deletes uploads never attached to a post once they have expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from core.errors import BadInput
from core.events import Deps
from datastore.uploads import UploadDoc, UploadStatus, insert_upload
from media.probe import ACCEPTED_CONTENT_TYPES
from services.media_objects import upload_key


@dataclass(frozen=True, slots=True)
class UploadTicket:
    upload_id: ObjectId
    url: str
    headers: dict[str, str]
    expires_at: datetime


async def create_upload_url(
    deps: Deps, owner_id: ObjectId, content_type: str, size: int
) -> UploadTicket:
    stores = deps.stores
    settings = stores.settings
    content_type = content_type.strip().lower()
    if content_type not in ACCEPTED_CONTENT_TYPES:
        raise BadInput(
            f"Unsupported content type {content_type!r}",
            argument="contentType",
            accepted=sorted(ACCEPTED_CONTENT_TYPES),
        )
    if size <= 0:
        raise BadInput("size must be positive", argument="size")
    if size > settings.max_upload_bytes:
        raise BadInput(
            f"size must be at most {settings.max_upload_bytes} bytes",
            argument="size",
            maxBytes=settings.max_upload_bytes,
        )
    now = datetime.now(UTC)
    ttl = timedelta(seconds=settings.upload_url_ttl_seconds)
    upload_id = ObjectId()
    key = upload_key(owner_id, upload_id)
    doc: UploadDoc = {
        "_id": upload_id,
        "owner_id": owner_id,
        "key": key,
        "content_type": content_type,
        "size": size,
        "status": UploadStatus.PENDING,
        "post_id": None,
        "created_at": now,
        "expires_at": now + ttl,
    }
    await insert_upload(stores, doc)
    url = stores.objects.presigned_put(key, ttl)
    # The declared type is a hint for storage only: the pipeline decides from the bytes.
    return UploadTicket(upload_id, url, {"Content-Type": content_type}, doc["expires_at"])
