"""The `refresh_tokens` repository (services/refresh_tokens.py holds the rotation rules).

Shard key for a sharded MongoDB cluster: {_id: "hashed"}; a token is always presented with its
id, and family revocation is a rare scatter-gather.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

register_indexes(
    "refresh_tokens",
    [
        IndexModel([("family_id", ASCENDING)], name="family"),
    ],
)
# `revoked_at: None` is filtered among the family's few tokens, so it needs no index key.
query("refresh_tokens", "family", equality=["family_id"])


class RefreshTokenDoc(TypedDict):
    _id: ObjectId
    user_id: ObjectId
    family_id: ObjectId  # the `_id` of the family's first token (one login)
    token_hash: str  # SHA-256 of the secret, hex; the secret itself is never stored
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


async def insert_token(stores: Stores, doc: RefreshTokenDoc) -> None:
    await stores.backend.write(lambda: stores.db.refresh_tokens.insert_one(doc))


async def find_token(stores: Stores, token_id: ObjectId) -> RefreshTokenDoc | None:
    return await stores.db.refresh_tokens.find_one({"_id": token_id})


async def mark_used(stores: Stores, token_id: ObjectId, when: datetime) -> None:
    await stores.backend.write(
        lambda: stores.db.refresh_tokens.update_one({"_id": token_id}, {"$set": {"used_at": when}}),
        idempotent=True,
    )


async def revoke_family(stores: Stores, family_id: ObjectId, when: datetime) -> None:
    """Mark every live token of the family revoked."""
    await stores.backend.write(
        lambda: stores.db.refresh_tokens.update_many(
            {"family_id": family_id, "revoked_at": None}, {"$set": {"revoked_at": when}}
        ),
        idempotent=True,
    )
