"""Query cost: GitHub's node-limit rule, a per-request ceiling, `extensions.cost` everywhere."""

from __future__ import annotations

import pytest
from graphql import parse

from gateway.cost import query_cost
from tests.integration.gateway.support import RESOLVED, nested_followers


@pytest.fixture
async def gw(make_client):
    return await make_client()


def _cost(schema, query: str, variables: dict | None = None, name: str | None = None) -> int:
    return query_cost(
        schema._schema,
        parse(query),
        operation_name=name,
        variables=variables,
        default_first=20,
    )


async def test_nested_connections_multiply_by_first(gw):
    from schema.root import build_schema

    schema = build_schema()
    assert _cost(schema, "{ serverTime }") == 1
    assert _cost(schema, nested_followers(1, first=10)) == 1 + 10
    assert _cost(schema, nested_followers(2, first=10)) == 1 + 10 + 100
    assert _cost(schema, nested_followers(3, first=50)) == 1 + 50 + 2500 + 125_000
    # Without `first`, the default page size counts.
    assert _cost(schema, "{ gwPeople { nodes { name } } }") == 1 + 20
    # Through edges { node }, variables, variable defaults, fragments and inline fragments.
    query = """
      query Q($n: Int = 5, $m: Int) {
        gwPeople(first: $n) {
          edges { node { ...F } }
        }
      }
      fragment F on GwPerson { followers(first: $m) { nodes { ... on GwPerson { name } } } }
    """
    assert _cost(schema, query, {"m": 3}) == 1 + 5 + 15
    assert _cost(schema, query, {"n": 2, "m": 4}) == 1 + 2 + 8
    # Only the operation that runs counts.
    two_ops = "query A { gwPeople(first: 7) { nodes { name } } } query B { serverTime }"
    assert _cost(schema, two_ops, name="A") == 8
    assert _cost(schema, two_ops, name="B") == 1


async def test_every_response_reports_its_cost(gw):
    body = await gw(
        "{ gwPeople(first: 3) { nodes { name followers(first: 2) { nodes { name } } } } }"
    )
    body.ok()
    cost = body["extensions"]["cost"]
    assert cost["requested"] == 1 + 3 + 6
    assert cost["limit"] == 10_000
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 20_000
    assert status["currentlyAvailable"] == 20_000 - 10
    assert status["restoreRate"] == 1_000

    # Refused before execution: still a cost block, with nothing requested.
    invalid = await gw("{ nope }")
    assert invalid.codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert invalid["extensions"]["cost"]["requested"] == 0


async def test_a_cost_bomb_is_refused_before_any_resolver_runs(gw):
    RESOLVED["count"] = 0
    body = await gw(nested_followers(3, first=50))
    assert body.codes == ["QUERY_TOO_COSTLY"]
    error = body.errors[0]
    assert error["extensions"]["cost"] == 127_551
    assert error["extensions"]["limit"] == 10_000
    assert "127551" in error["message"] and "10000" in error["message"]
    assert body.data is None
    assert RESOLVED["count"] == 0
    assert body["extensions"]["cost"]["requested"] == 127_551


async def test_the_ceiling_comes_from_settings(make_client):
    gw = await make_client(max_query_cost=10)
    assert (await gw(nested_followers(1, first=9))).ok()
    body = await gw(nested_followers(1, first=10))
    assert body.codes == ["QUERY_TOO_COSTLY"]


async def test_a_cost_bomb_on_the_real_schema_is_refused(gql):
    """Against whatever connection fields the real schema has (User.followers once the accounts
    domain lands): nest the first connection found three times at first: 50."""
    from graphql import GraphQLObjectType, get_named_type

    from gateway.cost import is_connection
    from schema.root import build_schema

    schema = build_schema()._schema
    user = schema.get_type("User")
    assert isinstance(user, GraphQLObjectType)
    field = next(
        (
            name
            for name, f in user.fields.items()
            if is_connection(f.type)
            and get_named_type(get_named_type(f.type).fields["nodes"].type).name == "User"
            and "first" in f.args
        ),
        None,
    )
    if field is None:
        pytest.skip("the real schema has no User -> User connection yet")
    inner = "id"
    for _ in range(3):
        inner = f"{field}(first: 50) {{ nodes {{ {inner} }} }}"
    body = await gql(f'{{ node(id: "VXNlcjow") {{ ... on User {{ {inner} }} }} }}')
    assert body.codes == ["QUERY_TOO_COSTLY"]
    assert body.errors[0]["extensions"]["cost"] == 1 + 50 + 2500 + 125_000
