"""Access tokens: short-lived JWTs (HS256 pinned; exp, iat and sub required)."""

from __future__ import annotations

import time
import uuid
from functools import lru_cache

import jwt
from bson import ObjectId

from core.errors import Unauthenticated
from core.settings import Settings

ALGORITHM = "HS256"


def issue_access_token(settings: Settings, user_id: ObjectId, *, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    payload = {
        "sub": str(user_id),
        "iat": issued,
        "exp": issued + settings.access_token_ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> ObjectId:
    try:
        subject, expires = _verified(settings.jwt_secret.get_secret_value(), token)
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("Access token expired") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise Unauthenticated("Invalid access token") from exc
    if expires <= time.time():
        raise Unauthenticated("Access token expired")
    return subject


@lru_cache(maxsize=10_000)
def _verified(secret: str, token: str) -> tuple[ObjectId, float]:
    """(subject, exp) of a token whose signature and claims checked out. Cached: a client sends
    the same token with every request for its 15 minutes; the caller re-checks `exp` each time.
    Failures raise and are not cached."""
    payload = jwt.decode(
        token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub"]}
    )
    return ObjectId(payload["sub"]), float(payload["exp"])


def bearer_token(header_value: str | None) -> str | None:
    if not header_value:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be `Bearer <accessToken>`")
    return token.strip()
