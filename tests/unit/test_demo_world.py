"""The demo plan (demo/world.py) is reproducible and has what the README promises; GraphiQL's
default document (gateway/graphiql_document.py) is valid against the schema and logs in as the
demo user."""

from collections import Counter

from graphql import OperationDefinitionNode, parse, validate

from core.settings import Settings
from demo.world import DEMO_LOGIN, DEMO_PASSWORD, SIZES, plan_world
from gateway import graphiql_document
from gateway.graphiql import offline_graphiql_html
from schema.root import build_schema


def test_one_seed_plans_one_world_and_another_seed_another():
    assert plan_world(SIZES["standard"], 16) == plan_world(SIZES["standard"], 16)
    assert plan_world(SIZES["standard"], 16) != plan_world(SIZES["standard"], 17)


def test_the_standard_world_has_a_celebrity_and_everything_the_readme_lists():
    plan = plan_world(SIZES["standard"])
    followers = Counter(followee for _, followee in plan.follows)
    assert len(plan.users) == 50
    assert followers[1] > plan.celebrity_threshold  # the celebrity alone is above it
    assert all(n <= plan.celebrity_threshold for u, n in followers.items() if u != 1)
    assert len(plan.posts) >= 200 and sum(p.video for p in plan.posts) == 1
    captions = " ".join(p.caption for p in plan.posts)
    assert "#" in captions and "@" in captions
    assert any(p.location for p in plan.posts)
    assert len(plan.likes) >= 500 and plan.comments and plan.shares
    assert all(a != b for a, b in plan.follows)
    assert len({u.username for u in plan.users}) == len(plan.users)


def test_graphiql_opens_with_the_demo_walkthrough_valid_against_the_schema():
    assert (graphiql_document.DEMO_LOGIN, graphiql_document.DEMO_PASSWORD) == (
        DEMO_LOGIN,
        DEMO_PASSWORD,
    )
    document = parse(graphiql_document.DEFAULT_DOCUMENT)
    schema = build_schema(Settings())._schema
    assert validate(schema, document) == []
    names = [d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert names == ["Login", "Feed", "Like", "Notifications"]
    html = offline_graphiql_html()
    assert "Welcome to GraphiQL" not in html and "Photogram: the demo world" in html
