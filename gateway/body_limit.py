"""Refuses request bodies above a size limit before the app reads them.

A declared Content-Length over the limit is refused before the app runs; a chunked body is
counted as it streams and refused when it passes the limit. Either way the answer is 413 with a
GraphQL-shaped body, code PAYLOAD_TOO_LARGE. Multipart requests (file uploads) get their own,
larger limit.

The rest of the body is read and discarded (up to DRAIN_LIMIT) before answering: a client that
is still sending when the server closes gets a connection reset instead of the 413. A client
that sent `Expect: 100-continue` is answered at once and never sends the body.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.metrics import count_refusal
from gateway.refusal import send_graphql_error

log = logging.getLogger("photogram.request")


DRAIN_LIMIT = 32 * 1024 * 1024


class _TooLarge(Exception):
    pass


async def _drain(receive: Receive, already: int) -> None:
    """Read the request body to its end, or until DRAIN_LIMIT bytes were read in all."""
    total = already
    while total < DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return
        total += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, max_multipart_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_multipart_bytes = max_multipart_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        limit = (
            self.max_multipart_bytes if content_type.startswith("multipart/") else self.max_bytes
        )
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            if headers.get(b"expect", b"").lower() != b"100-continue":
                await _drain(receive, 0)
            await self._refuse(scope, send, limit, int(declared))
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await _drain(receive, received)
            await self._refuse(scope, send, limit, received)

    async def _refuse(self, scope: Scope, send: Send, limit: int, size: int) -> None:
        count_refusal("body_size")
        log.info(
            "request refused",
            extra={"path": scope.get("path"), "status": 413, "body_bytes": size, "limit": limit},
        )
        await send_graphql_error(
            send,
            413,
            f"Request body exceeds the limit of {limit} bytes",
            "PAYLOAD_TOO_LARGE",
            scope,
            limit=limit,
        )
