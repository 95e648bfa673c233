"""Request body size, batch size, security headers and the CORS allow-list."""

from __future__ import annotations

import orjson

BIG = 5 * 1024 * 1024


async def test_a_5mb_body_is_refused_with_413(make_client):
    gw = await make_client()
    query = "{ serverTime }" + " " * BIG
    resp = await gw.http.post("/graphql", json={"query": query})
    assert resp.status_code == 413
    error = resp.json()["errors"][0]
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": 1024 * 1024}
    assert str(1024 * 1024) in error["message"]
    assert resp.headers["x-request-id"]


async def test_a_streamed_body_without_length_is_counted(make_client):
    gw = await make_client(max_request_bytes=1000)

    async def chunks():
        yield b'{"query": "{ serverTime }", "variables": {"pad": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}}'

    resp = await gw.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413
    assert resp.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def small():
        yield b'{"query": "{ serverTime }"}'

    resp = await gw.http.post(
        "/graphql", content=small(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 200 and resp.json()["data"]["serverTime"]


async def test_batches_run_up_to_the_limit(make_client):
    gw = await make_client()
    batch = [{"query": "{ serverTime }"}, {"query": "query Two { __typename }"}, {"query": "{ x }"}]
    resp = await gw.http.post("/graphql", json=batch)
    assert resp.status_code == 200
    results = resp.json()
    assert [("data" in r and r["data"] is not None) for r in results] == [True, True, False]
    assert results[2]["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert all(r["extensions"]["cost"]["requested"] in (0, 1) for r in results)


async def test_a_batch_of_1000_operations_is_refused_whole(make_client):
    gw = await make_client()
    resp = await gw.http.post("/graphql", json=[{"query": "{ serverTime }"}] * 1000)
    assert resp.status_code == 400
    error = resp.json()["errors"][0]
    assert error["extensions"] == {"code": "BATCH_TOO_LARGE", "maximum": 10, "operations": 1000}
    assert "10" in error["message"] and "1000" in error["message"]


async def test_transport_errors_are_json_with_a_code(make_client):
    gw = await make_client()
    resp = await gw.http.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_security_headers_on_every_response(make_client):
    gw = await make_client()
    responses = [
        await gw.http.post("/graphql", json={"query": "{ serverTime }"}),
        await gw.http.get("/healthz"),
        await gw.http.post("/graphql", content=orjson.dumps({"query": " " * BIG})),
        await gw.http.get("/graphql", headers={"Accept": "text/html"}),
    ]
    for resp in responses:
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert "strict-transport-security" not in resp.headers
    assert responses[0].headers["content-security-policy"].startswith("default-src 'none'")
    # The GraphiQL page may run its own (inline) script, from this origin only.
    assert "script-src 'self' 'unsafe-inline'" in responses[3].headers["content-security-policy"]

    prod = await make_client(env="prod", jwt_secret="a-strong-test-secret-" + "x" * 20)
    resp = await prod.http.get("/healthz")
    assert resp.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_allows_only_configured_origins(make_client):
    closed = await make_client()
    resp = await closed.http.post(
        "/graphql", json={"query": "{ serverTime }"}, headers={"Origin": "https://app.example"}
    )
    assert "access-control-allow-origin" not in resp.headers

    gw = await make_client(cors_allow_origins="https://app.example, https://admin.example")
    preflight = await gw.http.options(
        "/graphql",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    resp = await gw.http.post(
        "/graphql", json={"query": "{ serverTime }"}, headers={"Origin": "https://app.example"}
    )
    assert resp.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in resp.headers["access-control-expose-headers"].lower()
    other = await gw.http.options(
        "/graphql",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
