"""Refuses an operation whose cost exceeds the per-request ceiling, charges the client's leaky
bucket, and reports both in `extensions.cost` of every response.

Refusals happen after validation and before any resolver runs:
- cost above `max_query_cost`: QUERY_TOO_COSTLY with `cost` and `limit`;
- bucket would overflow: RATE_LIMITED with `retryAfter` seconds and the bucket's state.

The client is the viewer when authenticated, else the client address. Subscriptions are not
charged here: their cost is per event, bounded by the WebSocket connection cap.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from core.errors import Unauthenticated
from gateway.cost import query_cost
from gateway.metrics import QUERY_COST, count_refusal
from gateway.throttle import BucketStatus, CostLeases, charge

log = logging.getLogger("gateway.cost")

# This process's unspent bucket leases (gateway/throttle.py), by bucket key.
_LEASES = CostLeases()

# Where the computed cost is left for the request log (gateway/observe.py): the execution
# context is the one object both extensions see per operation (a batch shares the `Context`).
COST_ATTR = "_photogram_cost"


def operation_cost(execution_context: Any) -> int | None:
    return getattr(execution_context, COST_ATTR, None)


def client_key(context: Any) -> str:
    try:
        viewer = context.viewer_id
    except Unauthenticated:
        viewer = None
    if viewer is not None:
        return f"user:{viewer}"
    return f"addr:{context.client_address or 'unknown'}"


# (query text, operation name, variables, default page size) -> cost. A client repeats the same
# few operations, and walking the document costs as much as resolving a dozen fields.
_COSTS: dict[tuple[str, str | None, bytes, int], int] = {}
_COSTS_MAX = 4096


def _cached_cost(ec: Any, default_first: int) -> int:
    def compute() -> int:
        return query_cost(
            ec.schema._schema,
            ec.graphql_document,
            operation_name=ec.operation_name,
            variables=ec.variables,
            default_first=default_first,
        )

    if not isinstance(ec.query, str):
        return compute()
    try:
        variables = orjson.dumps(ec.variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # e.g. an Upload in the variables: not worth a key
        return compute()
    key = (ec.query, ec.operation_name, variables, default_first)
    cost = _COSTS.get(key)
    if cost is None:
        if len(_COSTS) >= _COSTS_MAX:
            _COSTS.clear()
        cost = _COSTS[key] = compute()
    return cost


class QueryCostLimit(SchemaExtension):
    def __init__(self) -> None:
        self.report: dict[str, Any] | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        ctx = ec.context
        settings = getattr(ctx, "settings", None)
        # An earlier extension (persisted queries) may already have refused the operation.
        if settings is None or ec.graphql_document is None or ec.result is not None:
            yield
            return
        limit = settings.max_query_cost
        self.report = {"requested": 0, "limit": limit}
        try:
            op_type = ec.operation_type
        except RuntimeError:
            op_type = None
        if op_type is OperationType.SUBSCRIPTION:
            yield
            return

        cost = _cached_cost(ec, settings.default_page_size)
        setattr(ec, COST_ATTR, cost)
        self.report["requested"] = cost
        if cost > limit:
            count_refusal("cost")
            ec.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"Query cost {cost} exceeds the limit of {limit} per request: ask for "
                        "fewer items (`first`) in nested connections",
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
                    )
                ],
            )
            yield
            return

        status = await self._charge(ctx, settings, cost)
        if status is not None:
            self.report["throttleStatus"] = status.as_extension()
            if not status.allowed:
                count_refusal("rate_limited")
                ec.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"Query cost budget exhausted: this query costs {cost}, "
                            f"{status.available} of {status.capacity} points are available "
                            f"and {status.restore_rate} are restored per second",
                            extensions={
                                "code": "RATE_LIMITED",
                                "retryAfter": status.retry_after,
                                "cost": cost,
                            },
                        )
                    ],
                )
                yield
                return
        QUERY_COST.labels(op_type.value if op_type else "unknown").observe(cost)
        yield

    async def _charge(self, ctx: Any, settings: Any, cost: int) -> BucketStatus | None:
        stores = getattr(ctx, "stores", None)
        if stores is None or settings.cost_bucket_capacity <= 0:
            return None
        try:
            return await charge(
                stores.redis,
                stores.keys("cost", client_key(ctx)),
                cost,
                capacity=settings.cost_bucket_capacity,
                restore_rate=max(1, settings.cost_bucket_restore_rate),
                leases=_LEASES,
            )
        except Exception as exc:
            # Redis down must not take reads down with it: serve unthrottled and say so.
            log.warning("cost bucket unavailable, not throttling: %s", exc)
            return None

    def get_results(self) -> dict[str, Any]:
        if self.report is None:
            settings = getattr(self.execution_context.context, "settings", None)
            if settings is None:
                return {}
            self.report = {"requested": 0, "limit": settings.max_query_cost}
        return {"cost": self.report}
