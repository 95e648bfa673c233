"""Gateway behaviour of the GraphQL view, as a base class for app.py's PhotogramGraphQL:

- transport errors (bad JSON, unsupported content type, too many operations in a batch) leave as
  GraphQL-shaped JSON with a code instead of Strawberry's plain text, so clients parse one shape;
- a batch holds at most `max_batch_operations` operations (BATCH_TOO_LARGE, nothing executed);
- WebSocket connections per user are capped (`admit_websocket`, called from `on_ws_connect` once
  the user is known) and released when the connection closes; open connections are a gauge;
- a request that could do nothing because a dependency is down (no root field has data, and
  an error says SERVICE_UNAVAILABLE) answers HTTP 503 with `Retry-After`, so proxies, load
  balancers and plain HTTP clients see the outage; a partial result stays 200.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.responses import JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET

from gateway.metrics import WS_CONNECTIONS, count_refusal
from gateway.ws_handler import PhotogramTransportWSHandler
from gateway.ws_limit import admit, release

log = logging.getLogger("photogram.request")

_WS_SLOT = "ws_slot"


class GatewayHTTPError(HTTPException):
    def __init__(self, status_code: int, reason: str, code: str, **extensions: Any) -> None:
        super().__init__(status_code, reason)
        self.code = code
        self.extensions = extensions


def _error_response(exc: HTTPException) -> JSONResponse:
    code = getattr(exc, "code", None) or ("NOT_FOUND" if exc.status_code == 404 else "BAD_REQUEST")
    ext = {"code": code, **getattr(exc, "extensions", {})}
    return JSONResponse(
        {"errors": [{"message": exc.reason, "extensions": ext}]}, status_code=exc.status_code
    )


def outage_retry_after(response_data: object) -> int | None:
    """`Retry-After` seconds when this response is a request that could do nothing because a
    dependency is down: every root field null (or no data at all) and at least one error
    SERVICE_UNAVAILABLE. None otherwise (batches, partial results, clients' mistakes)."""
    if not isinstance(response_data, dict):
        return None
    errors = response_data.get("errors")
    if not errors:
        return None
    data = response_data.get("data")
    if isinstance(data, dict) and any(v is not None for v in data.values()):
        return None
    hints = [
        int(ext.get("retryAfter") or 1)
        for ext in (e.get("extensions") or {} for e in errors)
        if ext.get("code") == "SERVICE_UNAVAILABLE"
    ]
    return max(hints) if hints else None


class GatewayGraphQL(GraphQL):
    # Outboxes per socket and the post fan-out (gateway/ws_handler.py, docs/realtime.md).
    graphql_transport_ws_handler_class = PhotogramTransportWSHandler

    # orjson: a 20-post feed response encodes in a tenth of the time of the stdlib's json;
    # its JSONDecodeError subclasses json's, so Strawberry's 400 for a bad body still applies.
    # Text, not bytes: Strawberry sends bytes as binary WebSocket frames, which graphql-ws
    # clients (GraphiQL) do not read.
    def encode_json(self, data: object) -> str:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if self.is_websocket_request(request):
            try:
                return await super().run(request, context, root_value)
            finally:
                await self._release_websocket(request)
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            log.info(
                "graphql request refused",
                extra={"status": exc.status_code, "reason": exc.reason[:200]},
            )
            return _error_response(exc)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        retry_after = outage_retry_after(response_data)
        if retry_after is not None:
            response.status_code = 503
            response.headers["Retry-After"] = str(retry_after)
        return response

    def _validate_batch_request(self, request_data: list[Any], protocol: Any) -> None:
        config = self.schema.config.batching_config
        if config is not None and len(request_data) > config["max_operations"]:
            count_refusal("batch_size")
            raise GatewayHTTPError(
                400,
                f"A batch may hold at most {config['max_operations']} operations; "
                f"this one has {len(request_data)}",
                "BATCH_TOO_LARGE",
                maximum=config["max_operations"],
                operations=len(request_data),
            )
        super()._validate_batch_request(request_data, protocol)

    async def admit_websocket(self, context: Any) -> None:
        """Count this authenticated connection against the viewer's cap, or refuse it."""
        viewer = context.viewer_id
        if viewer is None:
            return
        stores = context.stores
        cap = stores.settings.max_ws_connections_per_user
        key = stores.keys("ws", viewer)
        conn_id = await admit(stores.redis, key, cap)
        if conn_id is None:
            count_refusal("websocket_cap")
            raise ConnectionRejectionError(
                {"code": "RATE_LIMITED", "message": f"at most {cap} connections per user"}
            )
        context.request.scope.setdefault("state", {})[_WS_SLOT] = (stores, key, conn_id)
        WS_CONNECTIONS.inc()

    async def _release_websocket(self, request: Any) -> None:
        slot = request.scope.get("state", {}).pop(_WS_SLOT, None)
        if slot is None:
            return
        stores, key, conn_id = slot
        WS_CONNECTIONS.dec()
        try:
            await release(stores.redis, key, conn_id)
        except Exception as exc:
            log.warning("could not release a WebSocket slot (expires by itself): %s", exc)
