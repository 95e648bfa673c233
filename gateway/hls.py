"""GET /media/hls/{key}?e=&s=: a post's HLS playlist with signed URIs (services/hls_delivery)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from services.hls_delivery import CONTENT_TYPE, ROUTE, signed_playlist, verify


async def hls_playlist(request: Request) -> Response:
    key = request.path_params["key"]
    secret = request.app.state.settings.jwt_secret.get_secret_value()
    e, s = request.query_params.get("e", ""), request.query_params.get("s", "")
    if not verify(secret, key, e, s):
        return PlainTextResponse("invalid or expired playlist URL", status_code=403)
    try:
        text = await signed_playlist(request.app.state.stores, key, secret)
    except Exception:
        return PlainTextResponse("object storage unavailable", status_code=503)
    if text is None:
        return PlainTextResponse("no such playlist", status_code=404)
    # Private: the segment URLs inside are signed for this window only.
    headers = {"Cache-Control": "private, max-age=600"}
    return Response(text, media_type=CONTENT_TYPE, headers=headers)


def hls_route_path() -> str:
    return f"{ROUTE}{{key:path}}"
