"""One structured JSON line per GraphQL operation; request ids in headers and masked errors."""

from __future__ import annotations

import logging

import orjson

from core.logging import JsonFormatter
from tests.support.factories import create_user


class _Lines(logging.Handler):
    """Formats at emit time, as the real handler does, while the request id is set."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(self.format(record)))


async def test_each_operation_logs_one_json_line(make_client):
    gw = await make_client()
    user_id, token = await create_user(gw.app.state.stores, "logger")
    handler = _Lines()
    logger = logging.getLogger("photogram.request")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        resp = await gw.http.post(
            "/graphql",
            json={"query": "query Clock { serverTime }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        await gw("{ nope }")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    assert len(handler.lines) == 2
    ok, bad = handler.lines
    assert ok["request_id"] == resp.headers["x-request-id"]
    assert ok["operation"] == "Clock" and ok["operation_type"] == "query"
    assert ok["viewer_id"] == str(user_id)
    assert ok["cost"] == 1 and ok["error_codes"] == []
    assert isinstance(ok["duration_ms"], float)
    assert bad["viewer_id"] is None and bad["error_codes"] == ["GRAPHQL_VALIDATION_FAILED"]
    assert bad["request_id"] != ok["request_id"]


async def test_masked_internal_errors_carry_the_request_id(make_client):
    gw = await make_client()
    resp = await gw.http.post("/graphql", json={"query": "{ gwBoom }"})
    error = resp.json()["errors"][0]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["extensions"]["requestId"] == resp.headers["x-request-id"]
