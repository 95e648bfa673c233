"""Access tokens: short-lived JWTs (HS256 pinned; exp, iat and sub required)."""

from __future__ import annotations

import time
import uuid

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
        payload = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
        return ObjectId(payload["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("Access token expired") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise Unauthenticated("Invalid access token") from exc


def bearer_token(header_value: str | None) -> str | None:
    if not header_value:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be `Bearer <accessToken>`")
    return token.strip()
