"""`photogram demo` at its small size, as a user runs it: the world is made through the real write
paths (rendered media, fan-out with a pulled celebrity, notifications), GraphiQL's default
document works against it, and a second run adds nothing."""

import subprocess
import sys

import pytest

from datastore.stores import Stores
from demo.world import CELEBRITY, DEMO_LOGIN, SIZES, plan_world
from feed.keys import FeedKeys
from gateway.graphiql_document import DEFAULT_DOCUMENT
from tests.support.processes import ROOT, _env

pytestmark = pytest.mark.slow

NOTIFICATIONS = "query { notifications(first: 20) { nodes { type actors { username } } } }"


def _demo(settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "demo", "--size", "small"],
        env=_env(settings, None),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )


async def _counts(stores: Stores) -> dict[str, int]:
    db = stores.db
    return {
        name: await getattr(db, name).count_documents({})
        for name in ("users", "posts", "likes", "comments")
    }


async def _run(http, operation: str, token: str | None = None, variables=None) -> dict:
    """One operation of GraphiQL's default document, picked by name as GraphiQL does."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": DEFAULT_DOCUMENT, "operationName": operation, "variables": variables or {}}
    resp = await http.post("/graphql", json=body, headers=headers)
    out = resp.json()
    assert resp.status_code == 200 and not out.get("errors"), out
    return out["data"]


async def test_demo_makes_a_small_world_once_and_the_default_document_reads_it(
    settings, stores, http, gql
):
    plan = plan_world(SIZES["small"])
    first = _demo(settings)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Demo world made" in first.stdout and f"'{DEMO_LOGIN}'" in first.stdout
    counts = await _counts(stores)
    assert counts["users"] == len(plan.users) and counts["posts"] == len(plan.posts)

    again = _demo(settings)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already" in again.stdout
    assert await _counts(stores) == counts

    # GraphiQL's own operations, as the README's "Try it" runs them.
    token = (await _run(http, "Login"))["login"]["accessToken"]
    feed = (await _run(http, "Feed", token))["feed"]["nodes"]
    assert feed and all(p["media"][0]["url"] for p in feed)
    authors = {p["author"]["username"] for p in feed}
    assert CELEBRITY in authors and len(authors) > 1
    assert {"VIDEO"} <= {m["type"] for p in (await _all_posts(gql, token)) for m in p["media"]}
    celebrity = next(u for u in authors if u == CELEBRITY)
    celeb_id = await stores.db.users.find_one({"username_lower": celebrity}, {"_id": 1})
    # Pulled at read time, not fanned out: the demo's worker ran with the plan's threshold.
    assert await stores.redis.sismember(FeedKeys(stores).celebrities(), str(celeb_id["_id"]))

    liked = (await _run(http, "Like", token, {"postId": feed[0]["id"]}))["likePost"]
    assert liked["viewerHasLiked"] is True
    notes = (await gql(NOTIFICATIONS, token=token)).ok()["notifications"]["nodes"]
    assert {"LIKE", "FOLLOW"} <= {n["type"] for n in notes}


async def _all_posts(gql, token: str) -> list[dict]:
    query = "query { feed(first: 50) { nodes { media { type } } } }"
    return (await gql(query, token=token)).ok()["feed"]["nodes"]
