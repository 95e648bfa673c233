"""What schema/root.py and app.py wire in: the gateway's schema extensions, ASGI middleware and
the /metrics route, each built from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.extensions import SchemaExtension

from core.settings import Settings
from gateway.body_limit import BodySizeLimitMiddleware
from gateway.cost_limit import QueryCostLimit
from gateway.limits import limit_extensions
from gateway.metrics import refresh_queue_metrics, render_metrics, set_operation_name_cap
from gateway.observe import RequestObserver
from gateway.persisted_queries import PersistedQueries
from gateway.security import SecurityHeadersMiddleware, cors_middleware

log = logging.getLogger("gateway")


def gateway_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Listed before ErrorCodes (RequestObserver must unwind after it, see gateway/observe.py)."""
    set_operation_name_cap(settings.metrics_max_operation_names)
    return [
        RequestObserver,
        PersistedQueries,
        *limit_extensions(settings),
        QueryCostLimit,
    ]


def batching_config(settings: Settings) -> dict[str, Any]:
    return {"max_operations": settings.max_batch_operations}


def gateway_middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: headers and CORS also reach the 413 answers of the body limit."""
    return [
        Middleware(SecurityHeadersMiddleware, hsts=settings.env == "prod"),
        *cors_middleware(settings),
        Middleware(
            BodySizeLimitMiddleware,
            max_bytes=settings.max_request_bytes,
            # The media domain's multipart limit when it defines one, else one upload of the
            # largest allowed size plus the operation itself.
            max_multipart_bytes=getattr(
                settings,
                "max_multipart_request_bytes",
                settings.max_upload_bytes + settings.max_request_bytes,
            ),
        ),
    ]


async def metrics_endpoint(request: Request) -> Response:
    queue = getattr(request.app.state, "queue", None)
    if queue is not None:
        try:
            await refresh_queue_metrics(queue)
        except Exception as exc:
            log.warning("queue metrics unavailable: %s", exc)
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)


def metrics_route() -> Route:
    return Route("/metrics", metrics_endpoint, methods=["GET"])
