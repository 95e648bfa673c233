"""The `locations` collection: one document per place (its normalized name, plus coordinates
rounded to ~100 m when given), with the count of READY posts there. Posts embed a copy
(`datastore.posts.PostLocation`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypedDict

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from datastore.doc_lock import update_document
from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

COLLECTION = "locations"


class LocationDoc(TypedDict, total=False):
    _id: ObjectId
    place_key: str
    name: str
    name_key: str
    lat: float | None
    lng: float | None
    post_count: int
    created_at: datetime


# One document per place: concurrent first uses of a place meet on this unique index.
register_indexes(COLLECTION, [IndexModel([("place_key", ASCENDING)], unique=True)])

query(COLLECTION, "by_id", equality=["_id"])
query(COLLECTION, "by_place", equality=["place_key"])


async def upsert_place(
    stores: Stores, place_key: str, name: str, name_key: str, lat: float | None, lng: float | None
) -> LocationDoc:
    """The document of a place, created on first use (post_count 0)."""
    insert = {
        "name": name,
        "name_key": name_key,
        "lat": lat,
        "lng": lng,
        "post_count": 0,
        "created_at": datetime.now(UTC),
    }
    for _ in range(3):
        try:
            return await stores.db.locations.find_one_and_update(
                {"place_key": place_key},
                {"$setOnInsert": insert},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # a concurrent first use of the same place won
            continue
    # Three lost races in a row: the winner's document exists now.
    return await stores.db.locations.find_one({"place_key": place_key})  # pragma: no cover


async def add_to_count(stores: Stores, location_id: ObjectId, delta: int) -> None:
    await update_document(stores, COLLECTION, location_id, {"$inc": {"post_count": delta}})


async def find_location(stores: Stores, location_id: ObjectId) -> LocationDoc | None:
    return await stores.db.locations.find_one({"_id": location_id})


async def locations_by_id(stores: Stores, ids: Sequence[ObjectId]) -> dict[ObjectId, LocationDoc]:
    return {d["_id"]: d async for d in stores.db.locations.find({"_id": {"$in": list(ids)}})}
