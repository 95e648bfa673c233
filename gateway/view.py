"""Gateway behaviour of the GraphQL view, as a base class for app.py's PhotogramGraphQL:

- transport errors (bad JSON, unsupported content type, too many operations in a batch) leave as
  GraphQL-shaped JSON with a code instead of Strawberry's plain text, so clients parse one shape;
- a batch holds at most `max_batch_operations` operations (BATCH_TOO_LARGE, nothing executed);
- WebSocket connections per user are capped (`admit_websocket`, called from `on_ws_connect` once
  the user is known) and released when the connection closes; open connections are a gauge;
- a request that could do nothing because a dependency is down (no root field has data, and
  an error says SERVICE_UNAVAILABLE) answers HTTP 503 with `Retry-After`, so proxies, load
  balancers and plain HTTP clients see the outage; a partial result stays 200;
- GraphQL over HTTP: the response's media type is negotiated from `Accept`
  (gateway/media_types.py, 406 when nothing listed is served) and its status follows that type
  (gateway/response_status.py); malformed parameters (`operationName` not a string, a batch
  entry that is not an object) are 400; a mutation over GET is 405 with `Allow: POST`.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from gateway.media_types import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, negotiate
from gateway.metrics import WS_CONNECTIONS, count_refusal
from gateway.response_status import shape_response
from gateway.ws_handler import PhotogramTransportWSHandler
from gateway.ws_limit import admit, release

log = logging.getLogger("photogram.request")

_WS_SLOT = "ws_slot"


class GatewayHTTPError(HTTPException):
    def __init__(
        self,
        status_code: int,
        reason: str,
        code: str,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code, reason)
        self.code = code
        self.headers = headers
        self.extensions = extensions


def _error_response(exc: HTTPException, media_type: str) -> Response:
    code = getattr(exc, "code", None) or ("NOT_FOUND" if exc.status_code == 404 else "BAD_REQUEST")
    ext = {"code": code, **getattr(exc, "extensions", {})}
    body = orjson.dumps({"errors": [{"message": exc.reason, "extensions": ext}]})
    return Response(
        body,
        status_code=exc.status_code,
        media_type=media_type,
        headers=getattr(exc, "headers", None),
    )


def _check_parameters(request: GraphQLRequestData) -> None:
    """The spec's request parameters, for what Strawberry does not check (operationName, and
    everything in a batch entry)."""
    for name, value, kinds in (
        ("query", request.query, str),
        ("operationName", request.operation_name, str),
        ("variables", request.variables, dict),
        ("extensions", request.extensions, dict),
    ):
        if value is not None and not isinstance(value, kinds):
            kind = "a string" if kinds is str else "an object"
            raise GatewayHTTPError(
                400, f"The request's `{name}` must be {kind} or null, if provided", "BAD_REQUEST"
            )


class _SubResponse(Response):
    """Strawberry's per-request sub-response, also carrying the negotiated media type from
    `get_sub_response` (which sees the request) to `create_response` (which does not)."""

    answer_media_type: str = APPLICATION_JSON


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
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None and not self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            return _error_response(
                GatewayHTTPError(
                    406,
                    f"Cannot answer in any type this Accept header lists; "
                    f"ask for {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}",
                    "NOT_ACCEPTABLE",
                ),
                APPLICATION_JSON,
            )
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            cause = exc.__cause__
            if (
                isinstance(cause, InvalidOperationTypeError)
                and request.method == "GET"
                and cause.operation_type is OperationType.MUTATION
            ):
                exc = GatewayHTTPError(
                    405, exc.reason, "METHOD_NOT_ALLOWED", headers={"Allow": "POST"}
                )
            log.info(
                "graphql request refused",
                extra={"status": exc.status_code, "reason": exc.reason[:200]},
            )
            return _error_response(exc, media_type or APPLICATION_JSON)

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = _SubResponse()
        sub_response.status_code = None  # type: ignore[assignment]
        del sub_response.headers["content-length"]
        sub_response.answer_media_type = negotiate(request.headers.get("accept")) or (
            APPLICATION_JSON
        )
        return sub_response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        media_type = getattr(sub_response, "answer_media_type", APPLICATION_JSON)
        status, retry_after = shape_response(response_data, media_type)
        response = Response(self.encode_json(response_data), media_type=media_type)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        # A status a resolver set on the sub-response stands unless the rules above chose one.
        response.status_code = status if status != 200 else (sub_response.status_code or 200)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else (data,):
            _check_parameters(item)
        return data

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
        if not request_data or not all(isinstance(item, dict) for item in request_data):
            raise GatewayHTTPError(
                400, "A batch must be a non-empty array of request objects", "BAD_REQUEST"
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
