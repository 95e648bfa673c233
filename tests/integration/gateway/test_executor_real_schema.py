"""The compiled executor against the standard one on the real schema and real services: two apps
on one database and key prefix (GRAPHQL_EXECUTOR=standard and =compiled), a small seeded world
(users, follows, READY posts, likes, comments and replies), the contract's read queries and
Hypothesis-generated selections over the types reachable from them; each HTTP response body
must be the same bytes from both apps. Faults are injected into resolvers (a media URL that
raises, a non-null field that gets None) for both apps alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from bson import ObjectId
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from core.events import emit
from core.ids import from_global_id, to_global_id
from tests.integration.feed.support import World, follow, publish
from tests.support import factories
from tests.support.isolation import drop_everything, isolated_settings
from tests.support.operations import GenConfig, Operation, operations

REQUEST_ID = "differential-0001"  # INTERNAL errors carry the request id: the same for both


@dataclass
class Seeded:
    usernames: list[str]
    user_ids: list[str]
    post_ids: list[str]
    comment_ids: list[str]
    tokens: dict[str, str]


@dataclass
class Pair:
    standard: httpx.AsyncClient
    compiled: httpx.AsyncClient
    schema: Any  # graphql-core schema (the same for both apps)
    world: Seeded
    compiled_schema: Any

    def compiled_plans(self) -> int:
        """Operations the compiled app ran from a plan (not handed to the standard executor)."""
        from gateway.compiled import plan_cache

        cache = plan_cache(self.compiled_schema._schema)
        return sum(plan is not None for plan in cache._plans.values())

    async def bodies(
        self, op: Operation, token: str | None
    ) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        """(status, body) from each app. The standard app answers twice and only its second
        answer counts, so caches the first request fills are warm for both."""
        await self._post(self.standard, op, token)
        standard = await self._post(self.standard, op, token)
        compiled = await self._post(self.compiled, op, token)
        return standard, compiled

    async def _post(
        self, client: httpx.AsyncClient, op: Operation, token: str | None
    ) -> tuple[int, bytes]:
        headers = {"X-Request-Id": REQUEST_ID}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload: dict[str, Any] = {"query": op.query, "variables": op.variables}
        if op.operation_name:
            payload["operationName"] = op.operation_name
        resp = await client.post("/graphql", json=payload, headers=headers)
        return resp.status_code, resp.content


def _graphql_view(app: Any) -> Any:
    for route in app.routes:
        if getattr(route, "path", None) == "/graphql" and hasattr(route, "endpoint"):
            return route.endpoint
    raise AssertionError("no /graphql route")


async def _seed(app: Any, gql: httpx.AsyncClient) -> Seeded:
    w = World(app.state.settings, app.state.stores, app.state.queue)
    deps = w.deps
    names = ["alice", "bob", "carol", "dave"]
    users: dict[str, tuple[ObjectId, str]] = {}
    for name in names:
        uid, token = await factories.create_user(
            w.stores,
            name,
            full_name=name.title(),
            is_private=name == "carol",
            bio=f"{name}'s bio",
        )
        await emit("user.registered", deps, user_id=uid)
        users[name] = (uid, token)
    for follower, followee in [
        ("bob", "alice"),
        ("bob", "carol"),
        ("alice", "bob"),
        ("dave", "alice"),
        ("carol", "alice"),
    ]:
        await follow(w, users[follower][0], users[followee][0])
    posts: list[ObjectId] = []
    for i, author in enumerate(["alice", "bob", "alice", "carol", "dave", "alice"]):
        posts.append(
            await publish(
                w,
                users[author][0],
                caption=f"post {i} by {author} #tag{i % 2}",
                hashtags=[f"tag{i % 2}"],
            )
        )
    await w.drain()

    async def mutate(query: str, variables: dict[str, Any], user: str) -> dict[str, Any]:
        resp = await gql.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {users[user][1]}"},
        )
        body = resp.json()
        assert not body.get("errors"), body
        return body["data"]

    like = "mutation($id: ID!) { likePost(postId: $id) { id } }"
    await asyncio.gather(
        *(
            mutate(like, {"id": to_global_id("Post", posts[index])}, user)
            for user, index in [("bob", 0), ("carol", 0), ("dave", 0), ("alice", 1), ("bob", 2)]
        )
    )
    add = "mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"
    made = await asyncio.gather(
        *(
            mutate(
                add, {"input": {"postId": to_global_id("Post", posts[index]), "text": text}}, user
            )
            for user, index, text in [("bob", 0, "nice"), ("dave", 0, "wow"), ("alice", 1, "hey")]
        )
    )
    comments = [data["addComment"]["id"] for data in made]
    reply = {"postId": to_global_id("Post", posts[0]), "text": "thanks", "replyToId": comments[0]}
    comments.append((await mutate(add, {"input": reply}, "alice"))["addComment"]["id"])
    await w.drain()
    return Seeded(
        usernames=names,
        user_ids=[to_global_id("User", users[n][0]) for n in names],
        post_ids=[to_global_id("Post", p) for p in posts],
        comment_ids=comments,
        tokens={n: users[n][1] for n in names},
    )


@pytest.fixture(scope="module")
async def pair() -> AsyncIterator[Pair]:
    """One seeded world for the module (seeding through mutations is the slow part)."""
    from app import create_app
    from gateway.compiled import CompiledExecutionContext

    settings = isolated_settings()

    common = {
        # Deterministic media URLs (presigned ones are signed per time window).
        "media_public_base_url": "https://cdn.test/media",
        # One cost bucket for both apps would throttle one of them first.
        "cost_bucket_capacity": 0,
    }
    async with AsyncExitStack() as stack:
        clients = {}
        schemas = {}
        for executor in ("standard", "compiled"):
            app = create_app(settings.model_copy(update={**common, "graphql_executor": executor}))
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            clients[executor] = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )
            schemas[executor] = _graphql_view(app).schema
            if executor == "standard":
                standard_app = app
        assert schemas["compiled"].execution_context_class is CompiledExecutionContext
        assert schemas["standard"].execution_context_class is not CompiledExecutionContext
        stack.push_async_callback(drop_everything, settings)
        world = await _seed(standard_app, clients["standard"])
        yield Pair(
            clients["standard"],
            clients["compiled"],
            schemas["standard"]._schema,
            world,
            schemas["compiled"],
        )


@contextmanager
def faults(world: Seeded, post_id_with_null: str | None) -> Iterator[None]:
    """For both apps alike: media URLs of every second seeded post raise (masked INTERNAL
    errors with the request id), and one post's `viewerHasLiked: Boolean!` gets None, which
    nulls the post and propagates up through the non-null edge and node fields."""
    failing = [from_global_id(g)[1] for g in world.post_ids[::2]]
    import resolvers.posts as posts_resolvers
    import schema.interactions as interactions

    url_for = posts_resolvers.url_for
    viewer_has_liked = interactions.post_viewer_has_liked

    def failing_url_for(ctx: Any, renditions: list[dict], *args: Any) -> str | None:
        key = renditions[0]["key"] if renditions else ""
        # Chosen by post, not by a hash of the key: ids are random, and a hash could spare
        # every post of a page, so the faults would not fire.
        if any(post_id in key for post_id in failing):
            raise RuntimeError("object storage unavailable")
        return url_for(ctx, renditions, *args)

    async def null_like(info: Any, post_doc: dict) -> bool:
        if to_global_id("Post", post_doc["_id"]) == post_id_with_null:
            return None  # type: ignore[return-value]
        return await viewer_has_liked(info, post_doc)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(posts_resolvers, "url_for", failing_url_for)
        mp.setattr(interactions, "post_viewer_has_liked", null_like)
        yield


POST = """id caption createdAt publishedAt status likeCount commentCount shareCount hashtags
  mentions viewerHasLiked author { id username fullName isPrivate followerCount }
  media { type width height blurhash url(width: 640) webp: url(format: WEBP)
    renditions { width height contentType url } thumbnail { url } }"""

CONTRACT = [
    (
        "bob",
        "query Feed($first: Int, $after: String) { feed(first: $first, after: $after) {"
        f" edges {{ cursor node {{ {POST} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        {"first": 3},
    ),
    (
        "bob",
        "query($o: FeedOrder) { feed(order: $o, first: 10) { nodes { id caption } } }",
        {"o": "RANKED"},
    ),
    ("bob", f"{{ explore(first: 5) {{ nodes {{ {POST} }} pageInfo {{ hasNextPage }} }} }}", {}),
    (
        "bob",
        """query($u: String!) { user(username: $u) { id username fullName bio isPrivate
      followerCount followingCount postCount isFollowedByViewer followsViewer
      viewerCanSeeContent posts(first: 2) { edges { cursor node { id caption likeCount } }
      pageInfo { hasNextPage endCursor } } followers(first: 5) { nodes { username } }
      following { nodes { username } } } }""",
        {"u": "alice"},
    ),
    (
        "dave",
        """query($u: String!) { user(username: $u) { username posts { nodes { id } }
      followers { nodes { username } } } }""",
        {"u": "carol"},
    ),
    (
        None,
        "query($id: ID!) { post(id: $id) { ...P comments(first: 5) { nodes { id text"
        " replyCount createdAt author { username } replies { nodes { text replyTo { id } } } }"
        " pageInfo { hasNextPage } } likers(first: 2) { nodes { username } pageInfo {"
        f" hasNextPage endCursor }} }} }} }} fragment P on Post {{ {POST} }}",
        "post0",
    ),
    (
        "bob",
        """query($q: String!) { searchUsers(query: $q, first: 3) { edges { cursor
      node { username fullName isPrivate } } pageInfo { hasNextPage } } }""",
        {"q": "a"},
    ),
    (
        "bob",
        """query($id: ID!, $p: ID!) { a: node(id: $id) { __typename id ... on User {
      username posts(first: 1) { nodes { id } } } ... on Post { caption } }
      b: node(id: $p) { id ... on Post { caption author { username } } ... on User { bio } }
      c: node(id: "bogus") { id } }""",
        "nodes",
    ),
    (
        "alice",
        """{ viewer { id username email followRequests { nodes { username } }
      sharedWithMe { nodes { id } } } }""",
        {},
    ),
    (None, "{ viewer { id } feed { nodes { id } } }", {}),
    ("bob", '{ feed(first: 51) { nodes { id } } explore(after: "garbage") { nodes { id } } }', {}),
]


def _contract(world: Seeded) -> list[tuple[str | None, Operation]]:
    out = []
    for user, query, variables in CONTRACT:
        if variables == "post0":
            variables = {"id": world.post_ids[0]}
        elif variables == "nodes":
            variables = {"id": world.user_ids[0], "p": world.post_ids[1]}
        token = world.tokens[user] if user else None
        out.append((token, Operation(query, variables)))  # type: ignore[arg-type]
    return out


async def test_contract_queries_answer_identically(pair: Pair) -> None:
    before = pair.compiled_plans()
    for with_faults in (False, True):
        for token, op in _contract(pair.world):
            if with_faults:
                with faults(pair.world, pair.world.post_ids[0]):
                    standard, compiled = await pair.bodies(op, token)
            else:
                standard, compiled = await pair.bodies(op, token)
            assert compiled == standard, _diff(op, standard, compiled)
            assert standard[0] == 200
            if with_faults and "url" in op.query and b"feed" in standard[1][:20]:
                assert b"INTERNAL" in standard[1], standard  # the faults did fire
    # The compiled app ran (nearly) all of them from plans of its own.
    assert pair.compiled_plans() - before >= len(CONTRACT) - 1


def _gen(world: Seeded) -> GenConfig:
    firsts = st.sampled_from([1, 2, 3, 3, 0, 51])
    afters = st.sampled_from(["garbage", ""])
    ids = st.sampled_from([*world.user_ids, *world.post_ids, *world.comment_ids, "bogus"])
    arguments: dict[tuple[str, str, str], st.SearchStrategy[Any]] = {
        ("Query", "user", "username"): st.sampled_from([*world.usernames, "nobody", None]),
        ("Query", "user", "id"): st.sampled_from([None, None, *world.user_ids]),
        ("Query", "post", "id"): st.sampled_from([*world.post_ids, "bogus"]),
        ("Query", "node", "id"): ids,
        ("Query", "searchUsers", "query"): st.sampled_from(["a", "al", "b", "ca", "zz"]),
        ("Media", "url", "width"): st.sampled_from([None, 320, 640, 2000, 0]),
        ("Media", "posterUrl", "width"): st.sampled_from([None, 640]),
    }
    return GenConfig(
        max_depth=5,
        max_selections=3,
        max_total=30,
        root_fields={"feed", "explore", "user", "post", "searchUsers", "node", "viewer"},
        # Only what the seeded world reaches; arguments of every `first`/`after` alike.
        values={"Int": firsts, "ID": ids, "String": afters},
        arguments=arguments,
        required_arguments={("Query", "user", "username")},
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_generated_selections_answer_identically(pair: Pair, data: st.DataObject) -> None:
    world = pair.world
    op = data.draw(operations(pair.schema, _gen(world)), label="operation")
    viewer = data.draw(st.sampled_from([None, "bob", "alice", "dave"]), label="viewer")
    with_faults = data.draw(st.booleans(), label="faults")
    note(str(op))
    token = world.tokens[viewer] if viewer else None
    if with_faults:
        with faults(world, world.post_ids[data.draw(st.integers(0, 5), label="null post")]):
            standard, compiled = await pair.bodies(op, token)
    else:
        standard, compiled = await pair.bodies(op, token)
    event("errors" if b'"errors"' in standard[1] else "no errors")
    assert _same_answer(standard, compiled), _diff(op, standard, compiled)


def _same_answer(standard: tuple[int, bytes], compiled: tuple[int, bytes]) -> bool:
    """Byte for byte, except where graphql-core itself is not deterministic: when an error
    nulls the whole `data`, the sibling root fields still running are cancelled
    (`gather_with_cancel`), so which of their errors got recorded first depends on how many
    event-loop steps each took, and the compiled plan takes fewer. Then every error the standard
    executor reports must be in the compiled answer, in the same order, and the rest equal."""
    if compiled == standard:
        return True
    if standard[0] != compiled[0]:
        return False
    a, b = orjson.loads(standard[1]), orjson.loads(compiled[1])
    if a.get("data", 0) is not None or b.get("data", 0) is not None:
        return False
    extra = iter(b.get("errors", []))
    in_order = all(any(e == f for f in extra) for e in a.get("errors", []))
    rest = {k: v for k, v in a.items() if k != "errors"}
    return in_order and rest == {k: v for k, v in b.items() if k != "errors"}


def _diff(op: Operation, standard: tuple[int, bytes], compiled: tuple[int, bytes]) -> str:
    return (
        f"executors differ\n--- operation\n{op}\n--- standard ({standard[0]})\n"
        f"{standard[1].decode()}\n--- compiled ({compiled[0]})\n{compiled[1].decode()}"
    )
