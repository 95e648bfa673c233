"""Depth, alias and token limits, and production mode (introspection and GraphiQL off)."""

from __future__ import annotations


def _deep(levels: int) -> str:
    return (
        "{ gwPerson { "
        + "followers(first: 1) { nodes { " * levels
        + "name"
        + " } }" * levels
        + " } }"
    )


async def test_a_query_nested_100_levels_is_refused_with_the_limit(make_client):
    gw = await make_client()
    body = await gw(_deep(50))  # 100 fields deep
    assert body.codes == ["QUERY_TOO_COMPLEX"]
    ext = body.errors[0]["extensions"]
    assert ext["limit"] == "depth" and ext["maximum"] == 15
    assert "15" in body.errors[0]["message"]
    assert body.data is None
    # Within the limit the same shape runs.
    assert (await gw(_deep(3))).ok()


async def test_too_many_aliases_are_refused(make_client):
    gw = await make_client()
    many = "{ " + " ".join(f"a{i}: serverTime" for i in range(51)) + " }"
    body = await gw(many)
    assert body.codes == ["QUERY_TOO_COMPLEX"]
    ext = body.errors[0]["extensions"]
    assert ext == {"code": "QUERY_TOO_COMPLEX", "limit": "aliases", "aliases": 51, "maximum": 50}
    ok = "{ " + " ".join(f"a{i}: serverTime" for i in range(50)) + " }"
    assert len((await gw(ok)).ok()) == 50


async def test_ten_thousand_aliases_stop_at_the_token_limit(make_client):
    gw = await make_client()
    huge = "{ " + " ".join(f"a{i}: serverTime" for i in range(10_000)) + " }"
    body = await gw(huge)
    assert body.codes == ["QUERY_TOO_COMPLEX"]
    ext = body.errors[0]["extensions"]
    assert ext["limit"] == "tokens" and ext["maximum"] == 5000


async def test_limits_come_from_settings(make_client):
    gw = await make_client(max_query_depth=2, max_query_aliases=1, max_query_tokens=40)
    assert (await gw(_deep(2))).codes == ["QUERY_TOO_COMPLEX"]
    assert (await gw("{ a: serverTime b: serverTime }")).codes == ["QUERY_TOO_COMPLEX"]
    long = "{ " + " ".join("serverTime" for _ in range(40)) + " }"
    assert (await gw(long)).errors[0]["extensions"]["limit"] == "tokens"


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_and_graphiql_are_on_in_development(make_client):
    gw = await make_client()
    assert (await gw(INTROSPECTION)).ok()["__schema"]["queryType"]["name"] == "Query"
    page = await gw.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text


async def test_production_mode_turns_off_introspection_and_graphiql(make_client):
    gw = await make_client(introspection=False, graphiql=False)
    body = await gw(INTROSPECTION)
    assert body.data is None and set(body.codes) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in body.errors[0]["message"].lower()
    # __typename is not introspection of the schema and still works.
    assert (await gw("{ __typename serverTime }")).ok()["__typename"] == "Query"
    page = await gw.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code != 200 or "GraphiQL" not in page.text


async def test_syntax_errors_and_parser_nesting_have_codes(make_client):
    gw = await make_client()
    assert (await gw("{ serverTime ")).codes == ["GRAPHQL_VALIDATION_FAILED"]
    body = await gw(_deep(150))  # 300 nested selection sets: the parser gives up first
    assert body.codes == ["QUERY_TOO_COMPLEX"]
    assert body.errors[0]["extensions"]["limit"] == "depth"
