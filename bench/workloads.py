"""The GraphQL operations the bench sends, and the per-viewer request lists wrk rotates through."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np

from bench.dataset import Dataset
from core.ids import from_global_id, to_global_id
from core.settings import Settings
from services.tokens import issue_access_token

# The peer's feed shape: 20 posts with caption, time, counts, media URL, author name and avatar.
FEED = """query Feed($first: Int, $after: String, $order: FeedOrder) {
  feed(first: $first, after: $after, order: $order) {
    edges { node { id caption createdAt likeCount commentCount
      media { url(width: 640) }
      author { username avatar { url(width: 150) } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

PROFILE = """query Profile($username: String!) {
  user(username: $username) {
    id username fullName bio followerCount followingCount postCount
    avatar { url(width: 150) }
    posts(first: 12) { edges { node { id likeCount commentCount media { url(width: 320) } } }
      pageInfo { hasNextPage endCursor } }
  }
}"""

POST = """query Post($id: ID!) {
  post(id: $id) {
    id caption createdAt likeCount commentCount
    media { url(width: 1080) }
    author { username avatar { url(width: 150) } }
    comments(first: 20) { edges { node { id text createdAt
      author { username avatar { url(width: 150) } } } } }
  }
}"""

SEARCH_USERS = """query Search($q: String!) {
  searchUsers(query: $q, first: 20) {
    edges { node { id username fullName avatar { url(width: 150) } } }
  }
}"""

Requests = list[tuple[str, dict]]


def viewers(ds: Dataset) -> tuple[list[int], list[int]]:
    """(ordinary, heavy) viewers the rows rotate over. On the peer's dataset (small scale): the
    peer's own 1,000 ordinary viewers in its rotation order (viewers.txt) and its heavy viewer
    (heavy_viewer.txt), so both benches measure the same people; otherwise 300 ordinary viewers
    and the generated heavy viewers."""
    if ds.viewers is not None:
        return list(ds.viewers), list(ds.heavy)
    return ds.ordinary_viewers(300), list(ds.heavy)


def tokens(settings: Settings, ds: Dataset, users: list[int]) -> list[str]:
    return [issue_access_token(settings, ds.user_ids[u]) for u in users]


def feed_requests(
    settings: Settings,
    ds: Dataset,
    viewers: list[int],
    order: str = "RECENT",
    after: dict[int, str] | None = None,
) -> Requests:
    out: Requests = []
    for v, tok in zip(viewers, tokens(settings, ds, viewers), strict=True):
        variables: dict = {"first": 20, "order": order}
        if after is not None:
            if v not in after:
                continue
            variables["after"] = after[v]
        out.append((tok, {"query": FEED, "variables": variables}))
    return out


def profile_requests(settings: Settings, ds: Dataset, viewers: list[int], n: int = 300) -> Requests:
    """Public accounts with at least 12 posts, each opened by one of the ordinary viewers."""
    rng = np.random.default_rng(ds.seed + 21)
    posts = np.bincount(ds.post_author, minlength=ds.n)
    targets = [i for i in range(ds.scale.users) if posts[i] >= 12 and not ds.private[i]]
    picked = rng.choice(targets, size=min(n, len(targets)), replace=False).tolist()
    toks = tokens(settings, ds, viewers)
    return [
        (toks[k % len(toks)], {"query": PROFILE, "variables": {"username": ds.usernames[t]}})
        for k, t in enumerate(picked)
    ]


def post_requests(settings: Settings, ds: Dataset, viewers: list[int], n: int = 300) -> Requests:
    """Public posts with at least 3 comments (the popular end), each opened by a viewer."""
    rng = np.random.default_rng(ds.seed + 22)
    ok = np.flatnonzero((ds.comment_count >= 3) & ~ds.private[ds.post_author])
    picked = rng.choice(ok, size=min(n, len(ok)), replace=False).tolist()
    toks = tokens(settings, ds, viewers)
    return [
        (
            toks[k % len(toks)],
            {"query": POST, "variables": {"id": to_global_id("Post", ds.post_ids[j])}},
        )
        for k, j in enumerate(picked)
    ]


def search_requests(settings: Settings, ds: Dataset, viewers: list[int], n: int = 300) -> Requests:
    """Prefixes of usernames (4 to 9 characters) and of full-name words."""
    rng = np.random.default_rng(ds.seed + 23)
    toks = tokens(settings, ds, viewers)
    out: Requests = []
    for k in range(n):
        if k % 3 == 2:
            word = ds_name_word(ds, int(rng.integers(0, ds.scale.users)))
            q = word[: int(rng.integers(2, len(word) + 1))]
        else:
            name = ds.usernames[int(rng.integers(0, ds.scale.users))]
            q = name[: int(rng.integers(4, len(name) + 1))]
        out.append((toks[k % len(toks)], {"query": SEARCH_USERS, "variables": {"q": q}}))
    return out


def ds_name_word(ds: Dataset, i: int) -> str:
    from bench.dataset import user_doc

    return user_doc(ds, i)["full_name"].split()[0]


async def pre_touch(settings: Settings, ds: Dataset, viewers: list[int]) -> None:
    """Mark the viewers' activity as just recorded (services/touch_activity.py's throttle key),
    so the row does not include the once-a-minute `last_active_at` write per viewer. Why: on
    this machine FerretDB's single SQLite writer is shared with other bulk loads, and one such
    write then waits seconds, which measures the neighbours, not the feed."""
    from datastore.stores import open_stores

    stores = open_stores(settings)
    try:
        ttl = max(1, settings.activity_touch_seconds)
        async with stores.redis.pipeline(transaction=False) as pipe:
            for v in viewers:
                pipe.set(stores.keys("active", ds.user_ids[v]), "1", ex=ttl)
            await pipe.execute()
    finally:
        await stores.close()


async def deep_cursors(url: str, reqs: Requests, pages: int = 5) -> dict[str, str]:
    """For each (token, first-page request): the endCursor after `pages` pages, fetched through
    the running server. Keyed by token."""
    out: dict[str, str] = {}
    sem = asyncio.Semaphore(8)

    async def one(client: httpx.AsyncClient, tok: str, body: dict) -> None:
        async with sem:
            after = None
            for _ in range(pages):
                variables = {**body["variables"], "after": after}
                r = await client.post(
                    "/graphql",
                    json={"query": body["query"], "variables": variables},
                    headers={"Authorization": f"Bearer {tok}"},
                )
                data = r.json()
                if data.get("errors"):
                    raise RuntimeError(f"feed paging failed: {data['errors']}")
                info = data["data"]["feed"]["pageInfo"]
                if not info["hasNextPage"]:
                    return
                after = info["endCursor"]
            out[tok] = after

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(one(client, t, b) for t, b in reqs))
    return out


async def same_feed_as_peer(settings: Settings, url: str, ds: Dataset) -> dict[str, str]:
    """Photogram's first feed page for the viewers the peer checks (bench/peer.expected_feeds)
    against the peer's SQL answer: "same", or how far they differ."""
    from bench.peer import expected_feeds

    expected = expected_feeds()
    if ds.post_uuids is None or ds.viewers is None or not expected:
        return {}
    uuid_of = {str(oid): u for oid, u in zip(ds.post_ids, ds.post_uuids, strict=True)}
    who = {"viewer1": ds.viewers[0], "viewer2": ds.viewers[1], "viewer3": ds.viewers[2]}
    who["heavy"] = ds.heavy[0]
    out: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for name, want in expected.items():
            ((tok, body),) = feed_requests(settings, ds, [who[name]])
            r = await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {tok}"})
            edges = r.json()["data"]["feed"]["edges"]
            got = [uuid_of.get(str(from_global_id(e["node"]["id"])[1]), "?") for e in edges]
            same = sum(a == b for a, b in zip(got, want, strict=False))
            out[name] = "same" if got == want else f"differs: {same}/{len(want)} positions equal"
    return out


async def check_one(url: str, reqs: Requests) -> dict:
    """Send the first request once and return a summary, so a row that answers errors fails
    loudly instead of measuring error responses."""
    tok, body = reqs[0]
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        r = await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {tok}"})
    data = r.json()
    if r.status_code != 200 or data.get("errors"):
        raise RuntimeError(f"request failed ({r.status_code}): {str(data)[:500]}")
    feed = (data.get("data") or {}).get("feed")
    if feed is not None and not feed["edges"]:
        # An empty feed would be measured as a fast one: a dataset/state mismatch, not a row.
        raise RuntimeError("the first viewer's feed page is empty")
    return {"bytes": len(r.content), "items": len(feed["edges"]) if feed is not None else None}
