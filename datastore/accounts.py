"""Account documents (`users`, `refresh_tokens`): indexes and small shared helpers.

Shard keys for a sharded MongoDB cluster (docs/data-model.md repeats them):
  users           {_id: "hashed"}   every hot read is by _id; username/email lookups go through
                                    the unique secondary indexes (unique indexes on a sharded
                                    collection must include the shard key, so at scale the
                                    uniqueness of username_lower / email moves to small
                                    lookup collections sharded by those fields).
  refresh_tokens  {_id: "hashed"}   a token is always presented with its id; family revocation
                                    is a rare scatter-gather.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from redis.exceptions import RedisError

from datastore.mongo import register_indexes
from datastore.stores import Stores

register_indexes(
    "users",
    [
        IndexModel([("username_lower", ASCENDING)], unique=True, name="username_lower_unique"),
        IndexModel([("email", ASCENDING)], unique=True, name="email_unique"),
    ],
)
register_indexes(
    "refresh_tokens",
    [
        IndexModel([("family_id", ASCENDING)], name="family"),
        IndexModel([("user_id", ASCENDING)], name="user"),
    ],
)


def new_user_document(
    username: str, email: str, password_hash: str, full_name: str, now: datetime
) -> dict[str, Any]:
    """A new account's `users` document (docs/data-model.md), counters at zero."""
    return {
        "username": username,
        "username_lower": username.lower(),
        "email": email,
        "password_hash": password_hash,
        "full_name": full_name,
        "bio": "",
        "website": None,
        "is_private": False,
        "is_verified": False,
        "avatar": None,
        "follower_count": 0,
        "following_count": 0,
        "post_count": 0,
        "created_at": now,
        "updated_at": now,
        "last_active_at": now,
    }


def pair_id(kind: str, a: ObjectId, b: ObjectId) -> ObjectId:
    """A deterministic ObjectId for the ordered pair (a, b) of relation `kind`.

    Why: FerretDB pushes only `_id` equality down to SQLite, so "does a follow b" by
    (follower_id, followee_id) would scan the collection; with this `_id` it is a primary-key
    read, and a repeated insert fails on `_id` uniqueness atomically. 96 bits of SHA-256 make a
    collision negligible; the unique compound index stays as the documented constraint.
    """
    digest = hashlib.sha256(kind.encode() + b"\0" + a.binary + b.binary).digest()
    return ObjectId(digest[:12])


# --- username -> id ------------------------------------------------------------------------
# Usernames never change, so a Redis hash maps each (lowercased) to its user id: registration
# writes it and a lookup that misses fills it from MongoDB, whose `username_lower` query is a
# scan on FerretDB. Losing the hash costs scans, never a wrong answer.


def username_map_key(stores: Stores) -> str:
    return stores.keys("uname")


async def remember_usernames(stores: Stores, ids: dict[str, ObjectId]) -> None:
    if ids:
        with contextlib.suppress(RedisError):
            await stores.redis.hset(
                username_map_key(stores), mapping={n: str(i) for n, i in ids.items()}
            )


async def user_ids_by_username(stores: Stores, names: list[str]) -> dict[str, ObjectId]:
    """Lowercased usernames -> user ids, for those that exist."""
    try:
        cached = await stores.redis.hmget(username_map_key(stores), names)
    except RedisError:
        cached = [None] * len(names)
    ids = {n: ObjectId(i) for n, i in zip(names, cached, strict=True) if i}
    missing = [n for n in dict.fromkeys(names) if n not in ids]
    if missing:
        found = {
            doc["username_lower"]: doc["_id"]
            async for doc in stores.db.users.find(
                {"username_lower": {"$in": missing}}, {"username_lower": 1}
            )
        }
        await remember_usernames(stores, found)
        ids |= found
    return ids
