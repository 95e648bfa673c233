"""Refusing a request from ASGI middleware with a GraphQL-shaped JSON error, before the GraphQL
view runs: `{"errors": [{"message": …, "extensions": {"code": …}}]}`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Send


async def send_graphql_error(
    send: Send, status: int, message: str, code: str, **extensions: Any
) -> None:
    body = orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
