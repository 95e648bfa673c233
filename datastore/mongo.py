"""The MongoDB client (PyMongo's native async API) and the indexes every query relies on."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from core.settings import Settings

log = logging.getLogger(__name__)

# collection name -> indexes. Domain modules add theirs with `register_indexes` at import time,
# so each collection's indexes sit next to the code whose queries need them.
_INDEXES: dict[str, list[IndexModel]] = {}


def register_indexes(collection: str, indexes: Iterable[IndexModel]) -> None:
    _INDEXES.setdefault(collection, []).extend(indexes)


def connect_mongo(settings: Settings, **kwargs: object) -> AsyncMongoClient:
    return AsyncMongoClient(
        settings.mongodb_url,
        serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
        connectTimeoutMS=settings.mongodb_timeout_ms,
        tz_aware=True,
        **kwargs,
    )


async def ensure_indexes(db: AsyncDatabase) -> None:
    for name, indexes in _INDEXES.items():
        if indexes:
            await db[name].create_indexes(indexes)
