"""CSRF prevention for multipart GraphQL requests (Apollo Server's rule).

A browser may post `multipart/form-data` cross-site without a CORS preflight, so a page on any
site could make a logged-in user's browser run a mutation (with cookies or a cached credential).
A request that carries a header a plain form cannot set (`Apollo-Require-Preflight` or
`X-Apollo-Operation-Name`, non-empty) forces the preflight, so a multipart request without
either is refused before its body is read. (Its size is bounded by gateway/body_limit.py.)
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.refusal import send_graphql_error

PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-apollo-operation-name")
MESSAGE = (
    "This multipart request was refused to prevent cross-site request forgery: send an "
    "`Apollo-Require-Preflight: true` (or `X-Apollo-Operation-Name`) header."
)


class MultipartCsrfGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _unprotected_multipart(scope):
            await send_graphql_error(send, 400, MESSAGE, "CSRF_PREVENTED", scope)
            return
        await self.app(scope, receive, send)


def _unprotected_multipart(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type != b"multipart/form-data":
        return False
    return not any(headers.get(h, b"").strip() for h in PREFLIGHT_HEADERS)
