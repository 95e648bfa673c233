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


def registered_indexes() -> dict[str, list[IndexModel]]:
    return {name: list(ixs) for name, ixs in _INDEXES.items()}


def connect_mongo(settings: Settings, **kwargs: object) -> AsyncMongoClient:
    return AsyncMongoClient(
        settings.mongodb_url,
        serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
        connectTimeoutMS=settings.mongodb_timeout_ms,
        socketTimeoutMS=settings.mongodb_socket_timeout_ms,
        tz_aware=True,
        **kwargs,
    )


async def ensure_indexes(db: AsyncDatabase) -> None:
    """Create every registered index that is missing, one `createIndexes` command each.

    Why one at a time: FerretDB 1.24 panics ("slice bounds out of range [:2:1]") and drops the
    connection when one `createIndexes` names two or more indexes that all exist already, i.e.
    on every restart against an existing database. Listing first keeps a restart at one
    command per collection."""
    for name, indexes in _INDEXES.items():
        if not indexes:
            continue
        existing = {ix["name"] async for ix in await db[name].list_indexes()}
        for index in indexes:
            if index.document["name"] not in existing:
                await db[name].create_indexes([index])
