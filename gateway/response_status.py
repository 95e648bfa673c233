"""The HTTP status of a GraphQL response, per media type (the GraphQL-over-HTTP spec).

`application/graphql-response+json` (the client asked for it):
- a request error (the document did not parse or validate, the variables did not coerce, or a
  gateway check refused the operation before it ran: cost, budget, persisted query) has no
  `data` entry and a 4xx/5xx status: 400; 429 for RATE_LIMITED; 503 for SERVICE_UNAVAILABLE;
  500 for INTERNAL;
- an operation that could do nothing because a dependency is down is answered as a request
  that could not be executed: no `data`, 503 with `Retry-After`. The spec requires 2xx for a
  response whose `data` is not null, so `data` is dropped rather than the status lowered;
- anything else executed: 200, field errors and all.

`application/json` (legacy clients, the default): 200 for every well-formed request, as the
spec recommends, except the outage above, which keeps its `data` and answers 503.

A batch (a JSON array of operations, a Photogram extension the spec does not define) answers
one array with an entry per operation, each shaped by the rules above; its status is that of
its entries when they all agree on a 4xx/5xx, else 200.

A request error is recognised by its shape: no data and no error with a `path` (an error raised
while executing a field always has one). That keeps the check a walk over the few errors of a
failed request and nothing at all for a successful one.
"""

from __future__ import annotations

import math
from typing import Any

from gateway.media_types import GRAPHQL_RESPONSE_JSON

# Request errors whose cause is not the client's request.
_STATUS_BY_CODE = {"INTERNAL": 500, "SERVICE_UNAVAILABLE": 503, "RATE_LIMITED": 429}


def outage_retry_after(response_data: object) -> int | None:
    """`Retry-After` seconds when this response is a request that could do nothing because a
    dependency is down: every root field null (or no data at all) and at least one error
    SERVICE_UNAVAILABLE. None otherwise (batches, partial results, clients' mistakes)."""
    if not isinstance(response_data, dict):
        return None
    errors = response_data.get("errors")
    if not errors:
        return None
    data = response_data.get("data")
    if isinstance(data, dict) and any(v is not None for v in data.values()):
        return None
    hints = [
        int(ext.get("retryAfter") or 1)
        for ext in (e.get("extensions") or {} for e in errors)
        if ext.get("code") == "SERVICE_UNAVAILABLE"
    ]
    return max(hints) if hints else None


def is_request_error(result: dict[str, Any]) -> bool:
    errors = result.get("errors")
    return (
        bool(errors)
        and result.get("data") is None
        and not any(isinstance(e, dict) and "path" in e for e in errors)
    )


def _retry_after(errors: list[Any]) -> int | None:
    hints = [
        math.ceil(float(ext["retryAfter"]))
        for ext in (e.get("extensions") or {} for e in errors if isinstance(e, dict))
        if isinstance(ext.get("retryAfter"), int | float)
    ]
    return max(hints) if hints else None


def _request_error_status(errors: list[Any]) -> int:
    return max(
        _STATUS_BY_CODE.get((e.get("extensions") or {}).get("code"), 400)
        for e in errors
        if isinstance(e, dict)
    )


def _shape_one(result: dict[str, Any]) -> tuple[int, int | None]:
    """Status and `Retry-After` of one graphql-response+json result; drops its `data` when it
    is a request error."""
    if is_request_error(result):
        result.pop("data", None)
        status = _request_error_status(result["errors"])
        return status, _retry_after(result["errors"]) if status in (429, 503) else None
    retry_after = outage_retry_after(result)
    if retry_after is not None:
        result.pop("data", None)
        return 503, retry_after
    return 200, None


def shape_response(response_data: Any, media_type: str) -> tuple[int, int | None]:
    """The HTTP status and `Retry-After` (or None) for `response_data`, encoded as
    `media_type`; adjusts `response_data` in place for graphql-response+json."""
    if media_type != GRAPHQL_RESPONSE_JSON:
        retry_after = outage_retry_after(response_data)
        return (200, None) if retry_after is None else (503, retry_after)
    if isinstance(response_data, dict):
        return _shape_one(response_data)
    shaped = [_shape_one(entry) for entry in response_data if isinstance(entry, dict)]
    statuses = {status for status, _ in shaped}
    if len(statuses) == 1 and shaped[0][0] >= 400:
        hints = [hint for _, hint in shaped if hint is not None]
        return shaped[0][0], max(hints) if hints else None
    return 200, None
