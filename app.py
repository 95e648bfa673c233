"""The Photogram ASGI app: GraphQL (HTTP, WebSocket subscriptions, GraphiQL), health endpoints.

`create_app(settings)` builds an app for given settings (tests use their own database and key
prefix); uvicorn serves `create_default_app`, a factory (`photogram serve`), so importing this
module builds nothing.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from core.errors import Unauthenticated
from core.logging import configure_logging
from core.settings import Settings, get_settings
from datastore.health import check_dependencies
from datastore.stores import Stores, open_stores, prepare_stores
from gateway.csrf import MultipartCsrfGuard
from gateway.event_metrics import install_metrics, metrics_observers
from gateway.graphiql import ASSET_PREFIX, render_graphiql, serve_asset
from gateway.hls import hls_playlist, hls_route_path
from gateway.request_id import RequestIdMiddleware
from gateway.setup import gateway_middleware, metrics_route
from gateway.view import GatewayGraphQL
from gateway.ws_handler import WebSocketTransportMiddleware
from realtime.limits import raise_open_files_limit
from resolvers.context import Context
from schema.root import build_schema
from worker.queue import make_queue

log = logging.getLogger("photogram")


class PhotogramGraphQL(GatewayGraphQL):
    """Strawberry's ASGI view with our context, WebSocket auth and the offline GraphiQL page."""

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        app_state = request.app.state
        is_ws = request.scope["type"] == "websocket"
        return Context(
            app_state.stores,
            app_state.queue,
            observers=app_state.observers,
            request=request,
            response=response,
            authorization=None if is_ws else request.headers.get("authorization"),
            client_address=request.client.host if request.client else None,
            request_id=request.scope.get("state", {}).get("request_id"),
        )

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        auth = params.get("authorization") or params.get("Authorization")
        if not isinstance(auth, str) or not auth:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "missing token"})
        context.set_authorization(auth)
        try:
            context.require_viewer()
        except Unauthenticated as exc:
            raise ConnectionRejectionError(
                {"code": "UNAUTHENTICATED", "message": exc.message}
            ) from exc
        await self.admit_websocket(context)  # per-user connection cap (gateway/view.py)
        return None

    async def render_graphql_ide(self, request: Request) -> Response:
        return render_graphiql()


def tune_gc(settings: Settings) -> None:
    """Keep the cyclic garbage collector's pauses out of request latency.

    Measured under the feed load (wrk, 16 connections, 2 workers): with CPython's defaults a
    worker ran a full collection about every 1.5 s, each walking every object the process
    holds (the schema, the plans, the document memo), up to 225 ms: that was the feed's p99.
    Objects alive once the app has started are moved out of the collector's sight
    (`gc.freeze`), and a young generation of `gc_gen0_threshold` allocations instead of 700
    makes collections rarer (request garbage is freed by reference counting anyway): full
    collections fell to 3 in a 13 s run, at most 36 ms, and the row's p99 from 119-241 ms to
    41-45 ms. 50,000 was worse: each young collection then took up to 100 ms."""
    if settings.gc_gen0_threshold <= 0 or settings.env == "test":
        return  # a test process builds hundreds of apps: freezing each one's objects would leak
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(settings.gc_gen0_threshold, gen1, gen2)


def create_app(settings: Settings | None = None, **store_options: Any) -> Starlette:
    """`store_options` go to `open_stores` (tests attach command counters there)."""
    settings = settings or get_settings()
    install_metrics()
    schema = build_schema(settings)
    graphql = PhotogramGraphQL(
        schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        multipart_uploads_enabled=True,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stores = open_stores(settings, **store_options)
        app.state.stores = stores
        app.state.queue = make_queue(settings)
        failed = await prepare_stores(stores)
        if failed:
            log.error("starting degraded: %s not ready; /readyz reports 503", ", ".join(failed))
        tune_gc(settings)
        raise_open_files_limit()
        try:
            yield
        finally:
            try:
                await app.state.queue.disconnect()
            except Exception as exc:
                log.warning("error while closing the job queue: %s", exc)
            await stores.close()

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        stores: Stores = request.app.state.stores
        checks = await check_dependencies(stores)
        ok = all(c["status"] == "ok" for c in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route(f"{ASSET_PREFIX}/{{path:path}}", serve_asset),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        metrics_route(),
        Route(hls_route_path(), hls_playlist, methods=["GET"]),
    ]
    middleware = [
        Middleware(WebSocketTransportMiddleware),  # first: it needs the server's own `send`
        Middleware(RequestIdMiddleware),
        *gateway_middleware(settings),
        # Refuse multipart requests that did not force a CORS preflight (uploads' CSRF rule).
        Middleware(MultipartCsrfGuard),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.settings = settings
    app.state.observers = metrics_observers()
    return app


def create_default_app() -> Starlette:
    """The app for the environment's settings, as `photogram serve` runs it (uvicorn's
    `factory=True`: each worker process calls this once)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
