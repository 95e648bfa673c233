"""A small GraphQL client over httpx, for the ASGI app or a real server."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLResponse(dict):
    @property
    def data(self) -> Any:
        return self.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.get("errors") or []

    @property
    def codes(self) -> list[str | None]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]

    def ok(self) -> Any:
        assert not self.errors, self.errors
        return self.data


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, path: str = "/graphql") -> None:
        self.http = http
        self.path = path

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> GraphQLResponse:
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        resp = await self.http.post(
            self.path, json={"query": query, "variables": variables or {}}, headers=hdrs
        )
        assert resp.status_code in (200, 400, 503), (resp.status_code, resp.text)
        body = GraphQLResponse(resp.json())
        body["_status"] = resp.status_code
        return body
