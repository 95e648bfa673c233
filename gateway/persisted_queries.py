"""Automatic persisted queries, Apollo's APQ convention.

A client sends `extensions: {persistedQuery: {version: 1, sha256Hash: "<hex>"}}`:
- without `query`: the text stored under that hash is used; if none is stored, the response is
  the error `PersistedQueryNotFound` with code PERSISTED_QUERY_NOT_FOUND, and the client retries
  with both the hash and the query;
- with `query`: the hash must be the SHA-256 of the text (else BAD_USER_INPUT), and once the query
  validates, hash -> text is stored in Redis (under the key prefix, with a TTL refreshed on use).

The text then goes through the normal pipeline, so the parse and validation caches (keyed by
text) serve persisted and plain queries alike.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

log = logging.getLogger("gateway.apq")

_HASH = re.compile(r"^[0-9a-f]{64}$")
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


# Stands in for the query when the request is refused, so the operation still runs through the
# pipeline (log line, metrics, error codes) and is then short-circuited before execution.
# Raising from `on_operation` instead would skip the other extensions' exit hooks.
PLACEHOLDER = "query PersistedQuery { __typename }"


class PersistedQueries(SchemaExtension):
    def __init__(self) -> None:
        self._to_store: tuple[str, str] | None = None
        self._refusal: GraphQLError | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        ec = self.execution_context
        persisted = (ec.operation_extensions or {}).get("persistedQuery")
        stores = getattr(ec.context, "stores", None)
        if isinstance(persisted, dict) and stores is not None:
            try:
                await self._resolve(ec, persisted, stores)
            except GraphQLError as refusal:
                self._refusal = refusal
                ec.query = PLACEHOLDER
        yield

    async def _resolve(self, ec: Any, persisted: dict[str, Any], stores: Any) -> None:
        if persisted.get("version", 1) != 1:
            raise _error("Unsupported persisted query version", "BAD_USER_INPUT")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not _HASH.match(digest.lower()):
            raise _error("persistedQuery.sha256Hash must be 64 hex digits", "BAD_USER_INPUT")
        digest = digest.lower()
        key = stores.keys("apq", digest)
        if ec.query:
            if hashlib.sha256(ec.query.encode()).hexdigest() != digest:
                raise _error("provided sha does not match query", "BAD_USER_INPUT")
            self._to_store = (key, ec.query)
            return
        text = await stores.redis.getex(key, ex=stores.settings.persisted_query_ttl_seconds)
        if text is None:
            raise _error(NOT_FOUND_MESSAGE, "PERSISTED_QUERY_NOT_FOUND")
        ec.query = text

    async def on_validate(self) -> AsyncIterator[None]:
        yield
        # Stored only once it validates, so the store never fills with garbage.
        if self._to_store and not self.execution_context.pre_execution_errors:
            key, text = self._to_store
            stores = self.execution_context.context.stores
            try:
                await stores.redis.set(key, text, ex=stores.settings.persisted_query_ttl_seconds)
            except Exception as exc:
                log.warning("could not store a persisted query: %s", exc)

    def on_execute(self) -> Iterator[None]:
        if self._refusal is not None:
            self.execution_context.result = GraphQLExecutionResult(
                data=None, errors=[self._refusal]
            )
        yield
