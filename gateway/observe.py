"""One structured log line and the metrics for every GraphQL operation.

The line (logger `photogram.request`, JSON via core/logging.py) carries the request id,
operation name and type, viewer id, duration, cost and error codes. A batch logs one line per
operation; requests refused before GraphQL (body size, batch size) are logged by the gateway
middleware instead.

This extension must come before ErrorCodes in the schema's list: hooks unwind in reverse order,
so it then sees the errors after they got their codes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from core.errors import Unauthenticated
from gateway.cost_limit import operation_cost
from gateway.metrics import ERRORS, REQUEST_LATENCY, SUBSCRIPTIONS, operation_label

log = logging.getLogger("photogram.request")


def _codes(errors: list[GraphQLError] | None) -> list[str]:
    return [str((e.extensions or {}).get("code") or "UNKNOWN") for e in errors or ()]


class RequestObserver(SchemaExtension):
    def __init__(self) -> None:
        self._subscription = False

    async def on_operation(self) -> AsyncIterator[None]:
        start = time.perf_counter()
        raised: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            raised = exc
            raise
        finally:
            if self._subscription:
                SUBSCRIPTIONS.dec()
            self._record(time.perf_counter() - start, raised)

    async def on_validate(self) -> AsyncIterator[None]:
        yield
        if self._type() == "subscription" and not self.execution_context.pre_execution_errors:
            self._subscription = True
            SUBSCRIPTIONS.inc()

    def _type(self) -> str:
        ec = self.execution_context
        if ec.graphql_document is None:
            return "unknown"
        try:
            op_type: OperationType = ec.operation_type
        except RuntimeError:
            return "unknown"
        return op_type.value

    def _record(self, duration: float, raised: BaseException | None) -> None:
        ec = self.execution_context
        op_type = self._type()
        name = ec.operation_name if ec.graphql_document is not None else None
        result = ec.result
        if isinstance(raised, GraphQLError):
            codes = _codes([raised])
        elif raised is not None:
            codes = ["INTERNAL"]
        else:
            codes = _codes(getattr(result, "errors", None))
        label = operation_label(name)
        if op_type != "subscription":
            REQUEST_LATENCY.labels(label, op_type).observe(duration)
        for code in codes:
            ERRORS.labels(code, op_type).inc()
        log.info(
            "graphql operation",
            extra={
                "operation": name,
                "operation_type": op_type,
                "viewer_id": _viewer(ec.context),
                "client": getattr(ec.context, "client_address", None),
                "duration_ms": round(duration * 1000, 2),
                "cost": operation_cost(ec),
                "error_codes": codes,
            },
        )


def _viewer(context: Any) -> str | None:
    try:
        viewer = getattr(context, "viewer_id", None)
    except Unauthenticated:
        return None
    return str(viewer) if viewer is not None else None
