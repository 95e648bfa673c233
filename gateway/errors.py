"""Every GraphQL error leaves with an `extensions.code` from the API contract.

Domain errors (`core.errors.AppError`) keep their message and code. GraphQL's own parse and
validation errors become GRAPHQL_VALIDATION_FAILED (or BAD_USER_INPUT for bad variables).
A driver's connection or timeout error (MongoDB, Redis, object storage: `datastore/outages.py`
says which) is an outage, not a bug: SERVICE_UNAVAILABLE with `dependency` and `retryAfter`.
Anything else is a bug: its message is masked as INTERNAL with the request id, and the traceback
goes to the server log under that id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache

from core.errors import AppError
from core.logging import request_id_var
from datastore.outages import as_service_unavailable
from gateway.limits import limit_error_extensions

log = logging.getLogger("graphql.errors")

INTERNAL_MESSAGE = "Internal server error"


def _code_for_graphql_error(error: GraphQLError) -> str:
    msg = error.message
    if msg.startswith("Variable ") or "got invalid value" in msg or "Expected value of type" in msg:
        return "BAD_USER_INPUT"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"


class ErrorCodes(MaskErrors):
    def _database_lost(self) -> None:
        """Tell index readiness (datastore/index_readiness.py) that MongoDB stopped answering,
        so the unique indexes are checked again once it is back, even when no /readyz probe
        happened to fall inside the outage."""
        stores = getattr(self.execution_context.context, "stores", None)
        indexes = getattr(stores, "indexes", None)
        if indexes is not None:
            indexes.database_lost()

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out: list[GraphQLError] = []
        for error in errors:
            original = error.original_error
            # graphql-core wraps resolver exceptions; unwrap nested GraphQLErrors.
            while isinstance(original, GraphQLError) and original.original_error is not None:
                original = original.original_error
            outage = as_service_unavailable(original) if original is not None else None
            if outage is not None and outage is not original:
                log.warning(
                    "%s unavailable at %s: %s",
                    outage.dependency,
                    error.path,
                    str(original).splitlines()[0][:300] if str(original) else type(original),
                )
                # The driver's text names hosts and ports: the client gets the outage's own.
                error = GraphQLError(
                    message=outage.message,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    original_error=outage,
                )
                original = outage
                if outage.dependency == "mongo":
                    self._database_lost()
            if isinstance(original, AppError):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": original.code,
                    **original.extensions,
                }
                out.append(error)
            elif original is None or isinstance(original, GraphQLError):
                ext = dict(error.extensions or {})
                ext.update(limit_error_extensions(error.message) or {})
                ext.setdefault("code", _code_for_graphql_error(error))
                error.extensions = ext
                out.append(error)
            else:
                request_id = request_id_var.get()
                log.error(
                    "unhandled error in resolver",
                    exc_info=(type(original), original, original.__traceback__),
                    extra={"path": error.path},
                )
                out.append(
                    GraphQLError(
                        message=INTERNAL_MESSAGE,
                        nodes=error.nodes,
                        source=error.source,
                        positions=error.positions,
                        path=error.path,
                        extensions={"code": "INTERNAL", "requestId": request_id},
                    )
                )
        return out


class CodedParserCache(ParserCache):
    """ParserCache whose syntax errors still get a code. Strawberry's ParserCache parses inside
    its hook, so a syntax error escapes the operation before ErrorCodes sees it and leaves with
    no `extensions.code`. Here a failed parse is left to Strawberry's own parse step, which
    reports it as a normal result. Only invalid documents are parsed twice, and the token limit
    bounds that work."""

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        try:
            ec.graphql_document = self.cached_parse_document(ec.query, **ec.parse_options)
        except GraphQLError:
            ec.graphql_document = None
        yield
