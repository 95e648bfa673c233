"""Refusing a request from ASGI middleware with a GraphQL-shaped JSON error, before the GraphQL
view runs: `{"errors": [{"message": …, "extensions": {"code": …}}]}`, in the media type the
request's Accept negotiates (gateway/media_types.py; application/json when none matches)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Scope, Send

from gateway.media_types import APPLICATION_JSON, negotiate


def _media_type(scope: Scope | None) -> bytes:
    if scope is None:
        return APPLICATION_JSON.encode()
    accept = next((v for k, v in scope.get("headers") or () if k == b"accept"), None)
    return (negotiate(accept.decode("latin-1") if accept else None) or APPLICATION_JSON).encode()


async def send_graphql_error(
    send: Send,
    status: int,
    message: str,
    code: str,
    scope: Scope | None = None,
    **extensions: Any,
) -> None:
    body = orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", _media_type(scope)),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
