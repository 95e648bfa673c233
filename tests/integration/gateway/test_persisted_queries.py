"""Automatic persisted queries (Apollo's APQ)."""

from __future__ import annotations

import hashlib
import json

QUERY = "query Clock { serverTime }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def _ext(digest: str = HASH) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_the_apq_round_trip(make_client):
    gw = await make_client()
    http = gw.http
    # 1. Hash only, unknown: the client is told to send the text.
    resp = await http.post("/graphql", json={"extensions": _ext()})
    assert resp.status_code == 200
    body = resp.json()
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    # 2. Hash and text: runs and registers.
    resp = await http.post("/graphql", json={"query": QUERY, "extensions": _ext()})
    assert resp.json()["data"]["serverTime"]
    stores = gw.app.state.stores
    assert await stores.redis.get(stores.keys("apq", HASH)) == QUERY
    assert 0 < await stores.redis.ttl(stores.keys("apq", HASH)) <= 7 * 24 * 3600
    # 3. Hash only, now known: over POST and over GET (cacheable by a CDN).
    resp = await http.post("/graphql", json={"extensions": _ext()})
    assert resp.json()["data"]["serverTime"]
    resp = await http.get(
        "/graphql",
        params={"extensions": json.dumps(_ext())},
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 200 and resp.json()["data"]["serverTime"]


async def test_a_hash_that_does_not_match_is_refused(make_client):
    gw = await make_client()
    body = await gw.http.post("/graphql", json={"query": "{ serverTime }", "extensions": _ext()})
    error = body.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "sha" in error["message"]
    stores = gw.app.state.stores
    assert await stores.redis.get(stores.keys("apq", HASH)) is None
    bad = await gw.http.post("/graphql", json={"extensions": _ext("not-a-hash")})
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_invalid_queries_are_not_stored(make_client):
    gw = await make_client()
    text = "{ noSuchField }"
    digest = hashlib.sha256(text.encode()).hexdigest()
    body = await gw.http.post("/graphql", json={"query": text, "extensions": _ext(digest)})
    assert body.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    stores = gw.app.state.stores
    assert await stores.redis.get(stores.keys("apq", digest)) is None


async def test_persisted_queries_share_the_parse_cache(make_client):
    from gateway.errors import CodedParserCache

    gw = await make_client()
    parse = CodedParserCache(maxsize=512).cached_parse_document
    await gw.http.post("/graphql", json={"query": QUERY, "extensions": _ext()})
    before = parse.cache_info()
    await gw.http.post("/graphql", json={"extensions": _ext()})
    after = parse.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses
