"""The `uploads` collection: one record per original file in object storage, from
createUploadUrl (PENDING) or a multipart createPost (ATTACHED at once) until the post's
renditions exist or the sweeper collects it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from datastore.doc_lock import document_lock
from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

COLLECTION = "uploads"


class UploadStatus(StrEnum):
    PENDING = "PENDING"
    ATTACHED = "ATTACHED"


class UploadDoc(TypedDict, total=False):
    _id: ObjectId
    owner_id: ObjectId
    key: str
    content_type: str
    size: int
    status: str
    post_id: ObjectId | None
    created_at: datetime
    attached_at: datetime
    expires_at: datetime


register_indexes(
    COLLECTION,
    [
        # The sweeper: expired PENDING uploads, and ATTACHED ones whose post may be gone.
        IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("attached_at", ASCENDING)]),
        # Cleanup by post.
        IndexModel([("post_id", ASCENDING)]),
    ],
)

query(COLLECTION, "by_id", equality=["_id"])
query(COLLECTION, "by_post", equality=["post_id"])
query(COLLECTION, "expired_pending", equality=["status"], range="expires_at")
query(COLLECTION, "old_attached", equality=["status"], range="attached_at")
query(COLLECTION, "all_keys")


async def insert_upload(stores: Stores, doc: UploadDoc) -> None:
    await stores.backend.write(lambda: stores.db.uploads.insert_one(doc))


async def uploads_by_id(stores: Stores, ids: Sequence[ObjectId]) -> dict[ObjectId, UploadDoc]:
    return {d["_id"]: d async for d in stores.db.uploads.find({"_id": {"$in": list(ids)}})}


async def claim_upload(
    stores: Stores, upload_id: ObjectId, owner_id: ObjectId, post_id: ObjectId, now: datetime
) -> bool:
    """PENDING -> ATTACHED to `post_id`; False when it was not `owner_id`'s PENDING upload."""
    # Under the document's lock: FerretDB 1.x does not apply a filtered update atomically, and
    # two posts must never claim one upload.
    async with document_lock(stores, COLLECTION, upload_id):
        result = await stores.backend.write(
            lambda: stores.db.uploads.update_one(
                {"_id": upload_id, "owner_id": owner_id, "status": UploadStatus.PENDING},
                {
                    "$set": {
                        "status": UploadStatus.ATTACHED,
                        "post_id": post_id,
                        "attached_at": now,
                    }
                },
            )
        )
    return result.modified_count == 1


async def release_uploads(stores: Stores, ids: Sequence[ObjectId]) -> None:
    """Undo `claim_upload` (a createPost that failed after claiming)."""
    await stores.backend.write(
        lambda: stores.db.uploads.update_many(
            {"_id": {"$in": list(ids)}},
            {
                "$set": {"status": UploadStatus.PENDING, "post_id": None},
                "$unset": {"attached_at": ""},
            },
        )
    )


async def delete_upload(stores: Stores, upload_id: ObjectId, *, only_pending: bool = False) -> None:
    flt: dict = {"_id": upload_id}
    if only_pending:
        flt["status"] = UploadStatus.PENDING
    await stores.backend.write(lambda: stores.db.uploads.delete_one(flt))


async def delete_uploads(
    stores: Stores, ids: Sequence[ObjectId], *, only_pending: bool = False
) -> None:
    if not ids:
        return
    flt: dict = {"_id": {"$in": list(ids)}}
    if only_pending:
        flt["status"] = UploadStatus.PENDING
    await stores.backend.write(lambda: stores.db.uploads.delete_many(flt))


async def delete_post_uploads(stores: Stores, post_id: ObjectId) -> None:
    await stores.backend.write(lambda: stores.db.uploads.delete_many({"post_id": post_id}))


async def expired_pending(stores: Stores, before: datetime) -> list[UploadDoc]:
    cursor = stores.db.uploads.find(
        {"status": UploadStatus.PENDING, "expires_at": {"$lt": before}}, projection={"key": 1}
    )
    return [d async for d in cursor]


async def attached_before(stores: Stores, before: datetime) -> list[UploadDoc]:
    cursor = stores.db.uploads.find(
        {"status": UploadStatus.ATTACHED, "attached_at": {"$lt": before}},
        projection={"key": 1, "post_id": 1},
    )
    return [d async for d in cursor]


async def all_keys(stores: Stores) -> set[str]:
    return {d["key"] async for d in stores.db.uploads.find({}, projection={"key": 1})}
