"""Security headers on every HTTP response, and the CORS allow-list from settings.

JSON responses get a Content-Security-Policy that allows nothing (they are data, never a page);
the GraphiQL page gets one that allows only this origin plus the inline script Strawberry's page
needs. HSTS is sent only in production, where TLS is expected in front of the app.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings

API_CSP = b"default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; "
    b"worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                extra = list(_COMMON)
                extra.append(
                    (
                        b"content-security-policy",
                        PAGE_CSP if content_type.startswith(b"text/html") else API_CSP,
                    )
                )
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                headers.extend((k, v) for k, v in extra if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_origins(settings: Settings) -> list[str]:
    return [o.strip() for o in settings.cors_allow_origins.split(",") if o.strip()]


def cors_middleware(settings: Settings) -> list[Middleware]:
    """CORS only when origins are configured: without it browsers allow same-origin only."""
    origins = cors_origins(settings)
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=[
                "authorization",
                "content-type",
                "x-request-id",
                "apollo-require-preflight",
            ],
            expose_headers=["x-request-id"],
            max_age=600,
        )
    ]
