"""The MongoDB client (PyMongo's native async API) and the indexes every query relies on."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

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


@dataclass(frozen=True)
class IndexProblem:
    """An index that could not be created, and why. `duplicates` holds, for a unique index
    that existing documents violate, a few of the conflicting keys with some of their `_id`s."""

    collection: str
    index: str
    error: str
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    duplicate_keys: int = 0

    def describe(self) -> str:
        text = f"{self.collection}.{self.index}: {self.error}"
        if self.duplicates:
            shown = "; ".join(
                f"{dup['key']} x{dup['count']} (_id {', '.join(map(str, dup['ids']))})"
                for dup in self.duplicates
            )
            text += f"; {self.duplicate_keys} duplicated key(s), e.g. {shown}"
        return text


DUPLICATES_SHOWN = 3
IDS_SHOWN = 5


async def ensure_indexes(db: AsyncDatabase) -> list[IndexProblem]:
    """Create every registered index that is missing, one `createIndexes` command each, and
    return the ones that could not be created (empty when all exist).

    A failing index does not stop the others: each is tried, so one collection's bad data
    leaves every other collection protected. Losing the server (AutoReconnect, a timeout)
    still raises: nothing can be said about the indexes then.

    Why one at a time: FerretDB 1.24 panics ("slice bounds out of range [:2:1]") and drops the
    connection when one `createIndexes` names two or more indexes that all exist already, i.e.
    on every restart against an existing database. Listing first keeps a restart at one
    command per collection."""
    problems: list[IndexProblem] = []
    for name, indexes in _INDEXES.items():
        if not indexes:
            continue
        existing = {ix["name"] async for ix in await db[name].list_indexes()}
        for index in indexes:
            if index.document["name"] in existing:
                continue
            try:
                await db[name].create_indexes([index])
            except OperationFailure as exc:
                problems.append(await _describe_failure(db, name, index, exc))
    return problems


def is_duplicate_key_failure(exc: OperationFailure) -> bool:
    """MongoDB (and mongo-java-server) say E11000 / DuplicateKey; FerretDB 1.24 on SQLite
    answers InternalError with SQLite's "UNIQUE constraint failed" in the message."""
    return exc.code == 11000 or "UNIQUE constraint failed" in str(exc)


async def _describe_failure(
    db: AsyncDatabase, collection: str, index: IndexModel, exc: OperationFailure
) -> IndexProblem:
    name = index.document["name"]
    if not (index.document.get("unique") and is_duplicate_key_failure(exc)):
        return IndexProblem(collection, name, _first_line(exc))
    keys = list(index.document["key"])
    found, count = await find_duplicates(db, collection, keys)
    return IndexProblem(collection, name, "duplicate keys", found, count)


async def find_duplicates(
    db: AsyncDatabase, collection: str, keys: list[str], limit: int = DUPLICATES_SHOWN
) -> tuple[list[dict[str, Any]], int]:
    """The keys that more than one document holds: ([{key, count, ids}], how many keys).

    FerretDB 1.24 has no `$push` accumulator, so the `$group` counts and then a few `_id`s of
    each shown key are read with a find."""
    group = {"_id": {k.replace(".", "_"): f"${k}" for k in keys}, "n": {"$sum": 1}}
    pipeline: list[dict[str, Any]] = [{"$group": group}, {"$match": {"n": {"$gt": 1}}}]
    groups = [g async for g in await db[collection].aggregate(pipeline)]
    shown: list[dict[str, Any]] = []
    for g in groups[:limit]:
        key = dict(zip(keys, g["_id"].values(), strict=True))
        cursor = db[collection].find(key, {"_id": 1}).limit(IDS_SHOWN)
        ids = [doc["_id"] async for doc in cursor]
        shown.append({"key": key, "count": g["n"], "ids": ids})
    return shown, len(groups)


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]
