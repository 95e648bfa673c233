"""searchUsers in a fixed number of Redis round trips, and exactly the results it gave before.

The implementation this replaced (sequential calls, 8-13 round trips per page) is kept at the
bottom of this module as the spec: `reference_search_users`. The differential tests seed a small
world of colliding names, follows and blocks, and check that both return the same pages (ids,
cursors, hasNextPage) for Hypothesis-drawn queries, with and without a viewer, page by page.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core.cursor import cursor_codec
from core.errors import BadInput
from core.pagination import Page
from core.settings import get_settings
from datastore import graph
from datastore.stores import Stores
from search import index, queries, text
from search.index import PREFIX_LEN, SEP, username_key
from tests.support.factories import create_user

_UNTIL = b"\xff"

FIRST = ["ana", "anabel", "andre", "andrea", "ann", "annette", "bob", "bobby", "jose", "josé"]
FIRST += ["josefa", "joseph", "maria", "mario", "marie", "zoë"]
LAST = ["garcia", "garcés", "gar", "lopez", "lope", "smith", "smit", "an", "o"]
FIXED_USERS = [("ana", "Ana Gil"), ("andrea_garcia", "Andrea García"), ("josefa.garcia", "")]
FIXED_USERS += [("ann", "Ann Smith"), ("anabel", "Anabel Garcés")]


class World:
    """Users with colliding names and tied follower counts, two viewers who follow some of
    them, and blocks both ways. Indexed directly (`index.index_user`), as the events would."""

    def __init__(self) -> None:
        self.users: list[ObjectId] = []
        self.words: list[str] = []  # every username and name word, for queries
        self.viewers: list[ObjectId] = []


async def seed(stores: Stores, n: int = 56) -> World:
    rnd = random.Random(7)
    w = World()
    taken = {text.fold(u) for u, _ in FIXED_USERS}
    for i in range(n):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        shape = i % 4
        username = [f"{first}{i}", f"{first}_{last}{i}", f"{first}.{last}", first][shape]
        if text.fold(username) in taken:  # usernames are unique
            username = f"{username}{i}"
        taken.add(text.fold(username))
        full = rnd.choice([f"{first.title()} {last.title()}", first.upper(), "", last])
        uid, _ = await create_user(
            stores, username, full_name=full, follower_count=rnd.choice([0, 1, 1, 2, 5, 9, 30])
        )
        w.users.append(uid)
        w.words += [username, *full.split()]
    for username, full in FIXED_USERS:  # what every round-trip shape finds
        uid, _ = await create_user(stores, username, full_name=full, follower_count=3)
        w.users.append(uid)
        w.words += [username, *full.split()]
    w.viewers = [w.users[0], w.users[1]]
    for viewer in w.viewers:
        for other in rnd.sample(w.users[2:], min(18, len(w.users) - 2)):
            await stores.redis.zadd(stores.keys("following", viewer), {str(other): 1.0})
    for blocker, blocked in [(w.viewers[0], w.users[5]), (w.users[9], w.viewers[0])]:
        await graph.create_block(stores, blocker, blocked)
    for blocker, blocked in [(w.viewers[1], w.users[12]), (w.users[14], w.viewers[1])]:
        await graph.create_block(stores, blocker, blocked)
    for uid in w.users:
        await index.index_user(stores, uid)
    return w


@pytest.fixture
async def world(stores: Stores) -> World:
    return await seed(stores)


async def _pages(
    search: Any, stores: Stores, viewer: ObjectId | None, q: str, first: int, pages: int
) -> list[tuple[list[ObjectId], list[str], bool]]:
    """Up to `pages` pages, each following the previous page's last cursor."""
    out: list[tuple[list[ObjectId], list[str], bool]] = []
    after = None
    for _ in range(pages):
        page: Page[dict] = await search(stores, viewer, q, first, after)
        out.append(([d["_id"] for d in page.items], page.cursors, page.has_next))
        if not page.has_next or not page.cursors:
            break
        after = page.cursors[-1]
    return out


async def _same(stores: Stores, viewer: ObjectId | None, q: str, first: int) -> None:
    try:
        want = await _pages(reference_search_users, stores, viewer, q, first, 4)
    except BadInput:
        with pytest.raises(BadInput):
            await _pages(queries.search_users, stores, viewer, q, first, 4)
        return
    got = await _pages(queries.search_users, stores, viewer, q, first, 4)
    assert got == want, (q, viewer, first)


def _prefix_of(words: list[str]) -> st.SearchStrategy[str]:
    word = st.sampled_from(words)
    return st.builds(lambda w, n: w[: max(1, n)], word, st.integers(1, 12))


def _query(words: list[str]) -> st.SearchStrategy[str]:
    one = _prefix_of(words)
    styled = st.tuples(one, st.sampled_from(["", "@", " ", "#"]), st.booleans()).map(
        lambda t: t[1] + (t[0].upper() if t[2] else t[0])
    )
    two = st.tuples(one, one, st.sampled_from([" ", "-", "_", ". "])).map(
        lambda t: t[0] + t[2] + t[1]
    )
    return st.one_of(styled, two, st.tuples(one, one, one).map(" ".join))


# --- round trips ----------------------------------------------------------------------------

SHAPES = {
    "one char": "a",
    "3-char prefix": "ann",
    "exact username": "ana",
    "long prefix": "andre",
    "two words": "ana gar",
    "two long words": "josefa garcia",
}
# stage 1 (candidates, followed, exact, the viewer's block set) and the documents; words to
# check against the terms of members found by one word only, or followed accounts found outside
# the candidates, add stage 2 (terms, scores). Block flags never need it: the block sets here
# are small enough to read whole (`test_a_large_block_set_is_asked_by_member` covers the rest).
ANONYMOUS = {"one char": 2, "3-char prefix": 2, "exact username": 2, "long prefix": 2}
ANONYMOUS |= {"two words": 3, "two long words": 3}
WITH_VIEWER = dict(ANONYMOUS)


async def test_a_warm_user_search_page_is_a_fixed_number_of_round_trips(counted):
    application, _gql, mongo, redis = counted
    stores = application.state.stores
    w = await seed(stores)
    viewer = w.viewers[0]
    for size in (5, 50):  # warm: loads the script, fills the document cache, builds block sets
        for q in SHAPES.values():
            for who in (None, viewer):
                assert (await queries.search_users(stores, who, q, size, None)).items
    for size in (5, 50):
        for shape, q in SHAPES.items():
            for who, expected in ((None, ANONYMOUS[shape]), (viewer, WITH_VIEWER[shape])):
                mongo.reset()
                redis.reset()
                page = await queries.search_users(stores, who, q, size, None)
                assert page.items, (shape, who)
                cost = (redis.total, mongo.total)
                assert cost == (expected, 0), (shape, size, who is not None, cost)
                # the next page costs the same
                if page.has_next:
                    redis.reset()
                    await queries.search_users(stores, who, q, size, page.cursors[-1])
                    assert (redis.total, mongo.total) == (expected, 0), (shape, size, "page 2")


async def test_a_large_block_set_is_asked_by_member(counted, monkeypatch):
    """A block set larger than is read whole costs the second round trip's SMISMEMBER."""
    application, _gql, _mongo, redis = counted
    stores = application.state.stores
    w = await seed(stores, 20)
    viewer = w.viewers[0]
    want = await reference_search_users(stores, viewer, "a", 50, None)
    monkeypatch.setattr(graph, "WHOLE_BLOCK_SET_MAX", 1)  # the viewer's set: marker + 2 blocks
    await queries.search_users(stores, viewer, "a", 50, None)  # warm
    redis.reset()
    got = await queries.search_users(stores, viewer, "a", 50, None)
    assert redis.total == 3
    assert [d["_id"] for d in got.items] == [d["_id"] for d in want.items]
    assert w.users[5] not in {d["_id"] for d in got.items}


async def test_a_flushed_script_cache_is_reloaded_once(counted):
    application, _gql, _mongo, redis = counted
    stores = application.state.stores
    w = await seed(stores, 20)
    want = await reference_search_users(stores, w.viewers[0], "andre", 5, None)
    await stores.redis.script_flush()
    redis.reset()
    got = await queries.search_users(stores, w.viewers[0], "andre", 5, None)
    # NOSCRIPT, SCRIPT LOAD, then stage 1 again: two more, once (on stage 1 and the documents)
    assert redis.total == 2 + 2
    assert [d["_id"] for d in got.items] == [d["_id"] for d in want.items]
    assert got.cursors == want.cursors


# --- differential: the same pages as the reference --------------------------------------------


FIXED = [
    "a",
    "an",
    "ann",
    "ana",
    "anab",
    "andre",
    "andrea",
    "@Ana",
    "ANA",
    "jose",
    "José",
    "josé_garcía",
    "jose.garcia",
    "maria lopez",
    "mar lo",
    "lopez maria",
    "garc",
    "g",
    "zoe",
    "o",
    "ana gar",
    "an o",
    "bob smit",
    "smith bob",
    "a b c",
    "joseph.lope",
]


@pytest.mark.parametrize(
    "caps", [None, (6, 9), "blocks"], ids=["default caps", "tiny caps", "block sets by member"]
)
async def test_fixed_queries_give_the_reference_pages(world, stores, monkeypatch, caps):
    if caps == "blocks":  # every block set too large to read whole: SMISMEMBER per candidate
        monkeypatch.setattr(graph, "WHOLE_BLOCK_SET_MAX", 1)
    elif caps:  # small caps make the candidate cut and the lex slice bind on this small world
        monkeypatch.setattr(queries, "MAX_CANDIDATES", caps[0])
        monkeypatch.setattr(queries, "LEX_SCAN", caps[1])
    for q in FIXED:
        for viewer in (None, *world.viewers):
            for first in (1, 3, 50):
                await _same(stores, viewer, q, first)


@pytest.mark.parametrize("caps", [None, (6, 9)], ids=["default caps", "tiny caps"])
@hsettings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_drawn_queries_give_the_reference_pages(world, stores, monkeypatch, caps, data):
    if caps:
        monkeypatch.setattr(queries, "MAX_CANDIDATES", caps[0])
        monkeypatch.setattr(queries, "LEX_SCAN", caps[1])
    q = data.draw(_query(world.words), label="query")
    viewer = data.draw(st.sampled_from([None, *world.viewers]), label="viewer")
    first = data.draw(st.integers(1, 7), label="first")
    await _same(stores, viewer, q, first)


async def test_blocks_either_way_and_follows_show_in_the_differential_world(world, stores):
    """The world exercises what the differential compares: a viewer's followed tier, and
    accounts hidden by a block in each direction."""
    viewer = world.viewers[0]
    every = await _pages(queries.search_users, stores, viewer, "a", 50, 1)
    anonymous = await _pages(queries.search_users, stores, None, "a", 50, 1)
    shown, hidden = set(every[0][0]), set(anonymous[0][0]) - set(every[0][0])
    assert hidden and hidden <= {world.users[5], world.users[9]}
    following = set(await stores.redis.zrange(stores.keys("following", viewer), 0, -1))
    assert any(str(u) in following for u in shown)


# --- the spec: searchUsers as it was, with sequential round trips ---------------------------


def _page(ranked: list[tuple[Any, ...]], first: int, kind: str, scope: Any, after: str | None):
    """Cut a fully ranked list of sort keys (tuples; the last element is the member) after the
    cursor. Returns (keys of the page, cursors, has_next)."""
    if after:
        payload = cursor_codec(get_settings()).decode(kind, after)
        if not isinstance(payload, list) or len(payload) != 2 or payload[0] != scope:
            raise BadInput("This cursor belongs to another search", argument="after")
        last = tuple(payload[1])
        try:
            ranked = [key for key in ranked if list(key) > list(last)]
        except TypeError as exc:
            raise BadInput("Malformed cursor", argument="after") from exc
    chunk = ranked[:first]
    cursors = [cursor_codec(get_settings()).encode(kind, [scope, list(key)]) for key in chunk]
    return chunk, cursors, len(ranked) > first


async def _lex_matches(stores: Stores, kind: str, prefix: str) -> list[str]:
    """Members whose indexed terms start with `prefix` (deduplicated, at most LEX_SCAN terms)."""
    lex = stores.keys("sx", kind, "lex")
    start = b"[" + prefix.encode()
    rows = await stores.redis.zrangebylex(lex, start, start + _UNTIL, start=0, num=queries.LEX_SCAN)
    return list(dict.fromkeys(row.rsplit(SEP, 1)[1] for row in rows))


async def _ranked_candidates(stores: Stores, kind: str, query: text.Query) -> dict[str, float]:
    """member -> score for the best-scored matches of `query` (before filtering by the other
    words of a multi-word query)."""
    r = stores.redis
    k = stores.keys
    found: dict[str, float] = {}
    leads = [query.lead] + ([query.joined] if len(query.tokens) > 1 else [])
    for lead in leads:
        if len(lead) <= PREFIX_LEN:
            rows = await r.zrevrange(
                k("sx", kind, "p", lead), 0, queries.MAX_CANDIDATES - 1, withscores=True
            )
            found.update(rows)
        else:
            members = await _lex_matches(stores, kind, lead)
            if members:
                scores = await r.zmscore(k("sx", kind, "rank"), members)
                found.update((m, s) for m, s in zip(members, scores, strict=True) if s is not None)
    if len(found) > queries.MAX_CANDIDATES:
        best = sorted(found.items(), key=lambda ms: (-ms[1], ms[0]))[: queries.MAX_CANDIDATES]
        found = dict(best)
    return found


async def _user_terms(stores: Stores, members: list[str]) -> list[list[str] | None]:
    if not members:
        return []
    raws = await stores.redis.mget([stores.keys("sx", "u", "t", m) for m in members])
    return [orjson.loads(raw)["terms"] if raw else None for raw in raws]


async def reference_search_users(
    stores: Stores, viewer: ObjectId | None, raw_query: str, first: int, after: str | None
) -> Page[dict]:
    """Users whose username or full name (or a word of either) starts with the query, ranked:
    exact username, then accounts the viewer follows, then by follower count. Users blocked
    either way never appear; private accounts do."""
    query = text.parse_query(raw_query)
    if query.empty:
        return Page([], [], False)
    r = stores.redis
    k = stores.keys
    exact_key = username_key(raw_query)
    scores = await _ranked_candidates(stores, "u", query)
    candidates = set(scores)

    # Accounts the viewer follows rank above the rest: find every followed match, not only
    # those among the best-scored candidates (ZINTER with the prefix zsets does it in Redis).
    followed: set[str] = set()
    if viewer is not None:
        following_key = k("following", viewer)
        for lead in {query.lead[:PREFIX_LEN], query.joined[:PREFIX_LEN]}:
            rows = await r.zinter(
                [k("sx", "u", "p", lead), following_key], aggregate="MIN", withscores=False
            )
            followed.update(rows)
        if followed:
            rank = await r.zmscore(k("sx", "u", "rank"), list(followed))
            for m, s in zip(list(followed), rank, strict=True):
                if s is not None:
                    scores.setdefault(m, s)
    exact: set[str] = set()
    if exact_key:
        start = b"[" + f"{exact_key}{SEP}".encode()
        rows = await r.zrangebylex(k("sx", "u", "x"), start, start + _UNTIL)
        exact = {row.rsplit(SEP, 1)[1] for row in rows}
        if exact:
            rank = await r.zmscore(k("sx", "u", "rank"), list(exact))
            scores.update((m, s) for m, s in zip(list(exact), rank, strict=True) if s is not None)

    # Candidates from the lead word's index match it whole; a multi-word query, and the
    # followed accounts found by their 3-letter prefix, are checked against every word.
    verified = candidates if len(query.tokens) == 1 else set()
    to_check = sorted((candidates | followed) - verified - exact)
    checked = await _user_terms(stores, to_check)
    ok = {m for m, t in zip(to_check, checked, strict=True) if t and query.matches(t)}
    keep = {m for m in verified | ok | exact if m in scores}
    if viewer is not None and keep:
        # Blocks either way hide the account: the accounts domain's Redis block sets.
        among = [o for o in map(queries._oid, keep) if o is not None]
        keep -= {str(o) for o in await graph.blocked_among(stores, viewer, among)}

    def tier(m: str) -> int:
        return 0 if m in exact else 1 if m in followed else 2

    ranked = sorted(((tier(m), -scores[m], m) for m in keep), key=lambda key: key)
    ranked = ranked[: queries.MAX_CANDIDATES]
    chunk, cursors, has_next = _page(ranked, first, "searchUsers", query.joined, after)
    oids = [queries._oid(key[2]) for key in chunk]
    docs = await queries.docs_by_id(stores, "users", [o for o in oids if o is not None])
    items: list[dict] = []
    out_cursors: list[str] = []
    by_id = {d["_id"]: d for d in docs if d}
    for oid, cur in zip(oids, cursors, strict=True):
        if oid in by_id:
            items.append(by_id[oid])
            out_cursors.append(cur)
    return Page(items, out_cursors, has_next)
