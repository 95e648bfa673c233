"""Sessions: an access JWT plus an opaque, rotating refresh token.

A refresh token is `<token id hex>.<secret>`; MongoDB keeps only SHA-256(secret), looked up by
`_id` (a primary-key read on FerretDB). Every use rotates it: the presented token is marked used
and a new one of the same family is issued. Presenting a used token again means it was copied,
so the whole family (every token descending from that login) is revoked: the thief and the
victim both have to log in again.

The "used" mark is claimed with Redis SET NX, because FerretDB's conditional updates are not
atomic (two concurrent refreshes with one token would both win). Revoked families are also
marked in Redis, and a rotation re-checks that mark after issuing, so a refresh racing a
revocation cannot leave a live token behind.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from bson.errors import InvalidId

from core.errors import Unauthenticated
from datastore import refresh_tokens as tokens
from datastore.accounts import UserDoc
from datastore.refresh_tokens import RefreshTokenDoc
from datastore.stores import Stores
from services.tokens import issue_access_token

_INVALID = "Invalid refresh token"


@dataclass(frozen=True, slots=True)
class AuthResult:
    user: UserDoc
    access_token: str
    refresh_token: str
    expires_in: int


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(token: str) -> tuple[ObjectId, str]:
    token_id, _, secret = (token or "").strip().partition(".")
    if not secret or len(secret) > 128:
        raise Unauthenticated(_INVALID)
    try:
        return ObjectId(token_id), secret
    except (InvalidId, TypeError) as exc:
        raise Unauthenticated(_INVALID) from exc


async def issue_refresh_token(
    stores: Stores, user_id: ObjectId, family_id: ObjectId | None = None
) -> str:
    token_id = ObjectId()
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    doc: RefreshTokenDoc = {
        "_id": token_id,
        "user_id": user_id,
        "family_id": family_id or token_id,
        "token_hash": _hash(secret),
        "created_at": now,
        "expires_at": now + timedelta(seconds=stores.settings.refresh_token_ttl_seconds),
        "used_at": None,
        "revoked_at": None,
    }
    await tokens.insert_token(stores, doc)
    return f"{token_id}.{secret}"


async def start_session(
    stores: Stores, user: UserDoc, family_id: ObjectId | None = None
) -> AuthResult:
    settings = stores.settings
    return AuthResult(
        user=user,
        access_token=issue_access_token(settings, user["_id"]),
        refresh_token=await issue_refresh_token(stores, user["_id"], family_id),
        expires_in=settings.access_token_ttl_seconds,
    )


async def _load(stores: Stores, token: str) -> RefreshTokenDoc:
    token_id, secret = _split(token)
    doc = await tokens.find_token(stores, token_id)
    if doc is None or not hmac.compare_digest(doc["token_hash"], _hash(secret)):
        raise Unauthenticated(_INVALID)
    return doc


def _family_key(stores: Stores, family_id: ObjectId) -> str:
    return stores.keys("rtrevoked", family_id)


async def revoke_family(stores: Stores, family_id: ObjectId) -> None:
    ttl = stores.settings.refresh_token_ttl_seconds
    await stores.redis.set(_family_key(stores, family_id), "1", ex=ttl)
    await tokens.revoke_family(stores, family_id, datetime.now(UTC))


async def _family_revoked(stores: Stores, revoked_at: datetime | None, family_id: ObjectId) -> bool:
    return revoked_at is not None or bool(await stores.redis.exists(_family_key(stores, family_id)))


async def rotate_refresh_token(stores: Stores, token: str) -> tuple[ObjectId, str]:
    """Spend `token`; returns (user id, the family's next token). Raises UNAUTHENTICATED for a
    malformed, unknown, expired or revoked token, and revokes the family on reuse."""
    doc = await _load(stores, token)
    now = datetime.now(UTC)
    if await _family_revoked(stores, doc["revoked_at"], doc["family_id"]):
        raise Unauthenticated("Refresh token revoked; log in again")
    if doc["expires_at"] <= now:
        raise Unauthenticated("Refresh token expired; log in again")
    remaining = max(1, int((doc["expires_at"] - now).total_seconds()))
    claimed = doc["used_at"] is None and await stores.redis.set(
        stores.keys("rtused", doc["_id"]), "1", nx=True, ex=remaining
    )
    if not claimed:
        await revoke_family(stores, doc["family_id"])
        raise Unauthenticated("Refresh token already used; every session of it is revoked")
    await tokens.mark_used(stores, doc["_id"], now)
    new_token = await issue_refresh_token(stores, doc["user_id"], doc["family_id"])
    if await _family_revoked(stores, None, doc["family_id"]):
        await revoke_family(stores, doc["family_id"])
        raise Unauthenticated("Refresh token revoked; log in again")
    return doc["user_id"], new_token


async def revoke_refresh_token(stores: Stores, token: str) -> None:
    """Log out: revoke the token's family. Revoking an already revoked or used token is fine."""
    doc = await _load(stores, token)
    await revoke_family(stores, doc["family_id"])
