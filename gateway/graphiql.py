"""GraphiQL that works offline: Strawberry's page with its CDN assets served by this app.

The page loads React, GraphiQL and the explorer plugin from a public CDN, which renders blank
without internet access. We rewrite those URLs to `/graphiql-assets/<package>/<path>`, served
from `web/node_modules` (installed from the committed `web/package-lock.json`). The page opens
with the demo's walk-through (gateway/graphiql_document.py) instead of Strawberry's welcome.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import strawberry
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from gateway.graphiql_document import DEFAULT_DOCUMENT

ASSET_PREFIX = "/graphiql-assets"
NODE_MODULES = Path(__file__).resolve().parent.parent / "web" / "node_modules"

# Exactly the files the page needs; nothing else under node_modules is served.
ALLOWED_ASSETS = {
    "react/umd/react.production.min.js",
    "react-dom/umd/react-dom.production.min.js",
    "js-cookie/dist/js.cookie.min.js",
    "graphiql/graphiql.min.css",
    "graphiql/graphiql.min.js",
    "@graphiql/plugin-explorer/dist/style.css",
    "@graphiql/plugin-explorer/dist/index.umd.js",
}

_CDN_URL = re.compile(r"https://unpkg\.com/((?:@[\w.-]+/)?[\w.-]+)@[\w.-]+/([\w./-]+)")
_SRI = re.compile(r'\s*(?:integrity="[^"]*"|crossorigin)')
_TITLE = re.compile(r"<title>.*?</title>")
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.S)
_FETCHER = re.compile(r"const fetcher = GraphiQL\.createFetcher\(\{.*?\}\);", re.S)

# Browsers cannot set headers on a WebSocket, so the Authorization header typed into GraphiQL's
# Headers tab is sent as the graphql-transport-ws `connection_init` payload instead: one client
# per distinct header value.
_AUTH_AWARE_FETCHER = """const fetchers = {};
      function fetcher(params, opts) {
        const headers = (opts && opts.headers) || {};
        const auth = headers.Authorization || headers.authorization || "";
        if (!fetchers[auth]) {
          fetchers[auth] = GraphiQL.createFetcher({
            url: fetchURL,
            headers: defaultHeaders,
            subscriptionUrl,
            wsConnectionParams: auth ? { authorization: auth } : {},
          });
        }
        return fetchers[auth](params, opts);
      }"""


@lru_cache(maxsize=1)
def offline_graphiql_html() -> str:
    template = (Path(strawberry.__file__).parent / "static" / "graphiql.html").read_text()
    html = _CDN_URL.sub(lambda m: f"{ASSET_PREFIX}/{m.group(1)}/{m.group(2)}", template)
    html = _SRI.sub("", html)
    html = _TITLE.sub("<title>Photogram GraphiQL</title>", html)
    html, replaced = _FETCHER.subn(_AUTH_AWARE_FETCHER, html)
    if replaced != 1:
        raise RuntimeError("Strawberry's GraphiQL template changed: fetcher not found")
    # A JSON string is a valid JS string literal; `<` escaped so nothing can close the script.
    literal = json.dumps(DEFAULT_DOCUMENT).replace("<", "\\u003c")
    html, replaced = _EXAMPLE_QUERY.subn(lambda _: f"const EXAMPLE_QUERY = {literal};", html)
    if replaced != 1:
        raise RuntimeError("Strawberry's GraphiQL template changed: EXAMPLE_QUERY not found")
    if "unpkg.com" in html or "https://" in html.replace("http://www.w3.org", ""):
        raise RuntimeError("GraphiQL page still references an external host")
    return html


def render_graphiql() -> HTMLResponse:
    return HTMLResponse(offline_graphiql_html())


async def serve_asset(request: Request) -> Response:
    path = request.path_params["path"]
    if path not in ALLOWED_ASSETS:
        raise HTTPException(status_code=404)
    file = NODE_MODULES / path
    if not file.is_file():
        raise HTTPException(status_code=503, detail="GraphiQL assets not installed: run make web")
    return FileResponse(file, headers={"Cache-Control": "public, max-age=86400"})
