"""GraphQL over HTTP, rule by rule (gateway/media_types.py, gateway/response_status.py,
gateway/view.py): content negotiation, and the status and shape of each failure kind under
`application/graphql-response+json` and under legacy `application/json`, for GET, POST,
batches and persisted queries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.isolation import drop_everything, isolated_settings

GQL = "application/graphql-response+json"
JSON = "application/json"


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """One app for the module (starting one creates every index, the slow part), with the
    gateway tests' root fields and a small cost limit."""
    import schema.root as root
    from app import create_app
    from tests.integration.gateway.support import GatewayTestQuery

    settings = isolated_settings(max_query_cost=20)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(root, "QUERIES", [*root.QUERIES, GatewayTestQuery])
        app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client
    finally:
        await drop_everything(settings)


async def post(http: httpx.AsyncClient, body: object, accept: str | None = GQL) -> httpx.Response:
    headers = {"content-type": JSON}
    if accept is not None:
        headers["accept"] = accept
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await http.post("/graphql", content=raw, headers=headers)


def media(resp: httpx.Response) -> str:
    return resp.headers["content-type"].split(";")[0]


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body["errors"]]


# Content negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GQL, GQL),
        (f"{GQL}, {JSON};q=0.9", GQL),
        (f"{JSON};q=0.9, {GQL}", GQL),
        (JSON, JSON),
        (f"{GQL};q=0.5, {JSON}", JSON),
        ("*/*", JSON),
        (None, JSON),
    ],
)
async def test_the_answer_is_in_the_best_accepted_type(http, accept, expected):
    resp = await post(http, {"query": "{ __typename }"}, accept)
    assert resp.status_code == 200
    assert media(resp) == expected
    assert resp.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("accept", ["text/plain", "image/png", f"{JSON};q=0, {GQL};q=0"])
async def test_an_accept_nothing_matches_is_406_before_anything_runs(http, accept):
    resp = await post(http, {"query": "mutation { __typename }"}, accept)
    assert resp.status_code == 406
    assert media(resp) == JSON
    assert codes(resp.json()) == ["NOT_ACCEPTABLE"]
    get = await http.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": accept})
    assert get.status_code == 406


async def test_a_browser_still_gets_graphiql(http):
    page = await http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


# Failure kinds under application/graphql-response+json, and the legacy answers


async def test_json_parse_failure_is_400_in_both_types(http):
    for accept in (GQL, JSON):
        resp = await post(http, b'{ "not a JSON', accept)
        assert resp.status_code == 400
        assert media(resp) == (accept or JSON)
        assert "data" not in resp.json()
        assert codes(resp.json()) == ["BAD_REQUEST"]


@pytest.mark.parametrize(
    "body",
    [
        {"notquery": "{ __typename }"},
        {"query": {"obj": "ect"}},
        {"query": ["array"]},
        {"query": "{ __typename }", "variables": "string"},
        {"query": "{ __typename }", "variables": ["array"]},
        {"query": "{ __typename }", "extensions": 0},
        {"query": "{ __typename }", "operationName": {"obj": "ect"}},
        {"query": "{ __typename }", "operationName": ["array"]},
        {"query": "{ __typename }", "operationName": 0},
        {"query": "{ __typename }", "operationName": False},
    ],
)
async def test_malformed_requests_are_400_in_both_types(http, body):
    for accept in (GQL, JSON):
        resp = await post(http, body, accept)
        assert resp.status_code == 400, (accept, resp.text)
        assert "data" not in resp.json()
        assert codes(resp.json()) == ["BAD_REQUEST"]


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ noSuchField }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query Q($id: ID!) { __typename }", {"id": None}, "BAD_USER_INPUT"),
        ("query Q($n: Int!) { __typename }", {"n": "x"}, "BAD_USER_INPUT"),
        # GraphQL's GetOperation: several operations need an operationName.
        ("query A { __typename } query B { __typename }", None, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_request_errors_are_400_without_data_and_200_with_null_data_legacy(
    http, query, variables, code
):
    body = {"query": query, "variables": variables}
    resp = await post(http, body, GQL)
    assert resp.status_code == 400
    assert media(resp) == GQL
    assert "data" not in resp.json()
    assert codes(resp.json()) == [code]

    legacy = await post(http, body, JSON)
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None
    assert codes(legacy.json()) == [code]


async def test_execution_errors_are_200_with_data(http):
    resp = await post(http, {"query": "{ serverTime gwBoom }"}, GQL)
    assert resp.status_code == 200
    body = resp.json()
    assert body["data"] is None  # gwBoom is non-null: the error nulls the whole result
    assert codes(body) == ["INTERNAL"] and body["errors"][0]["path"] == ["gwBoom"]


async def test_a_refused_operation_is_a_request_error(http):
    query = "{ gwPeople(first: 50) { nodes { followers(first: 50) { nodes { name } } } } }"
    resp = await post(http, {"query": query}, GQL)
    assert resp.status_code == 400
    assert "data" not in resp.json() and codes(resp.json()) == ["QUERY_TOO_COSTLY"]
    legacy = await post(http, {"query": query}, JSON)
    assert legacy.status_code == 200 and codes(legacy.json()) == ["QUERY_TOO_COSTLY"]


async def test_an_operation_name_picks_one_of_several(http):
    doc = "query A { a: __typename } query B { b: __typename }"
    resp = await post(http, {"query": doc, "operationName": "B"}, GQL)
    assert resp.status_code == 200 and resp.json()["data"] == {"b": "Query"}
    # Cached validation of the same text does not let the check lapse.
    again = await post(http, {"query": doc}, GQL)
    assert again.status_code == 400
    assert again.json()["errors"][0]["message"].startswith("Must provide operation name")


# GET


async def test_get_follows_the_same_rules(http):
    ok = await http.get(
        "/graphql",
        params={
            "query": "query T($n: String!) { __type(name: $n) { name } }",
            "variables": '{"n": "Query"}',
        },
        headers={"accept": GQL},
    )
    assert ok.status_code == 200 and media(ok) == GQL
    assert ok.json()["data"] == {"__type": {"name": "Query"}}
    bad = await http.get("/graphql", params={"query": "{"}, headers={"accept": GQL})
    assert bad.status_code == 400 and "data" not in bad.json()
    bad_vars = await http.get(
        "/graphql", params={"query": "{ __typename }", "variables": "{"}, headers={"accept": GQL}
    )
    assert bad_vars.status_code == 400


async def test_a_mutation_over_get_is_405(http):
    for accept in (GQL, JSON):
        resp = await http.get(
            "/graphql", params={"query": "mutation { __typename }"}, headers={"accept": accept}
        )
        assert resp.status_code == 405
        assert resp.headers["allow"] == "POST"
        assert codes(resp.json()) == ["METHOD_NOT_ALLOWED"]


# Batches


async def test_a_batch_shapes_each_entry_and_answers_200_when_one_ran(http):
    batch = [{"query": "{ __typename }"}, {"query": "{"}]
    resp = await post(http, batch, GQL)
    assert resp.status_code == 200 and media(resp) == GQL
    first, second = resp.json()
    assert first["data"] == {"__typename": "Query"}
    assert "data" not in second and codes(second) == ["GRAPHQL_VALIDATION_FAILED"]

    legacy = await post(http, batch, JSON)
    assert legacy.status_code == 200
    assert legacy.json()[1]["data"] is None


async def test_a_batch_of_request_errors_is_400(http):
    resp = await post(http, [{"query": "{"}, {"query": "{ nope }"}], GQL)
    assert resp.status_code == 400
    assert all("data" not in entry for entry in resp.json())


@pytest.mark.parametrize(
    "batch",
    [
        [],
        [1, 2],
        [{"query": "{ __typename }"}, "x"],
        [{"query": "{ __typename }", "operationName": []}],
    ],
)
async def test_a_malformed_batch_is_400(http, batch):
    for accept in (GQL, JSON):
        resp = await post(http, batch, accept)
        assert resp.status_code == 400, resp.text
        assert codes(resp.json()) == ["BAD_REQUEST"]


# Persisted queries


async def test_a_persisted_query_miss_is_a_request_error(http):
    digest = hashlib.sha256(b"query Missing { serverTime }").hexdigest()
    ext = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    resp = await post(http, {"extensions": ext}, GQL)
    assert resp.status_code == 400 and "data" not in resp.json()
    assert codes(resp.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert resp.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    # Legacy clients (Apollo's link) keep the 200 they retry on.
    legacy = await post(http, {"extensions": ext}, JSON)
    assert legacy.status_code == 200 and codes(legacy.json()) == ["PERSISTED_QUERY_NOT_FOUND"]

    query = "query Known { __typename }"
    known = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}
    }
    assert (await post(http, {"query": query, "extensions": known}, GQL)).status_code == 200
    again = await http.get(
        "/graphql", params={"extensions": json.dumps(known)}, headers={"accept": GQL}
    )
    assert again.status_code == 200 and media(again) == GQL
    assert again.json()["data"] == {"__typename": "Query"}


# Refusals from middleware, before the view


async def test_middleware_refusals_answer_in_the_negotiated_type(http):
    big = b'{"query": "{ __typename }", "pad": "' + b"x" * (2 << 20) + b'"}'
    for accept, expected in ((GQL, GQL), (None, JSON), ("text/plain", JSON)):
        resp = await post(http, big, accept)
        assert resp.status_code == 413 and media(resp) == expected
        assert codes(resp.json()) == ["PAYLOAD_TOO_LARGE"]
    csrf = await http.post(
        "/graphql",
        files={"operations": (None, "{}"), "map": (None, "{}")},
        headers={"accept": GQL},
    )
    assert csrf.status_code == 400 and media(csrf) == GQL
    assert codes(csrf.json()) == ["CSRF_PREVENTED"]


# Refusals whose cause is not the request, under application/graphql-response+json


async def test_a_spent_budget_is_429_with_retry_after(make_client):
    gw = await make_client(cost_bucket_capacity=2, cost_bucket_restore_rate=1)
    query = "{ gwPeople(first: 3) { nodes { name } } }"  # costs 4: more than the bucket holds
    resp = await post(gw.http, {"query": query}, GQL)
    assert resp.status_code == 429 and int(resp.headers["retry-after"]) >= 1
    assert "data" not in resp.json() and codes(resp.json()) == ["RATE_LIMITED"]
    legacy = await post(gw.http, {"query": query}, JSON)
    assert legacy.status_code == 200 and codes(legacy.json()) == ["RATE_LIMITED"]


async def test_an_outage_that_left_nothing_is_503_without_data(settings):
    from tests.integration.outage.support import closed_port_url, running

    dead = settings.model_copy(update={"redis_url": closed_port_url()})
    query = {"query": 'query { searchUsers(query: "ali") { nodes { id } } }'}
    async with running(dead) as (_, _gql, http):
        resp = await post(http, query, GQL)
        legacy = await post(http, query, JSON)
    assert resp.status_code == 503 and resp.headers["retry-after"] == "1"
    assert "data" not in resp.json() and codes(resp.json()) == ["SERVICE_UNAVAILABLE"]
    # Legacy keeps its data entry (every root field null) and the same status.
    assert legacy.status_code == 503 and legacy.json()["data"] is None
