"""`photogram doctor`: compare what is derived with MongoDB after an incident, and repair it.

Checks, in the order repairs must run:
1. duplicates that block a unique index (every unique index registered with
   `datastore.mongo.register_indexes`); repaired by keeping the oldest document of each group
   (lowest `_id`) and creating the missing indexes;
2. every stored counter against a recount of its edges (maintenance/counters.py); repaired
   with the reconciler's compare-and-set, so it is safe while the API serves;
3. the search index against MongoDB: its marker, one entry per user and per READY post, none
   for what is gone; repaired by a build-and-swap rebuild (search/rebuild.py);
4. the follower and following zsets that exist against the follows they cache; repaired by
   rebuilding them.
Every check reads whole collections (scans on FerretDB): an operator's tool, not a cron.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from datastore import graph
from datastore.accounts import all_users
from datastore.dirty import KINDS
from datastore.mongo import ensure_indexes, registered_indexes
from datastore.posts import all_ready
from datastore.stores import Stores
from maintenance.counters import all_truths
from maintenance.reconcile import reconcile_one
from search import index as search_index
from search import rebuild as search_rebuild

log = logging.getLogger(__name__)

_EXAMPLES = 20  # findings listed per check; the count is always complete


@dataclass
class Check:
    name: str
    differences: int = 0
    repaired: int = 0
    examples: list[str] = field(default_factory=list)

    def found(self, what: str) -> None:
        self.differences += 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append(what)


@dataclass
class Report:
    checks: list[Check]
    repaired: bool

    @property
    def differences(self) -> int:
        return sum(c.differences for c in self.checks)

    def lines(self) -> list[str]:
        out = []
        for c in self.checks:
            state = "ok" if not c.differences else f"{c.differences} differ"
            if c.repaired:
                state += f", {c.repaired} repaired"
            out.append(f"{c.name}: {state}")
            out += [f"  - {e}" for e in c.examples]
        verdict = "repaired" if self.repaired else "dry run, nothing changed"
        out.append(f"{self.differences} difference(s) found; {verdict}")
        return out


async def run_doctor(stores: Stores, *, repair: bool) -> Report:
    """Run every check; with `repair`, fix what differs. A dry run (`repair=False`) writes
    nothing."""
    checks = [
        await check_unique_duplicates(stores, repair=repair),
        await check_counters(stores, repair=repair),
        await check_search_index(stores, repair=repair),
        await check_graph_sets(stores, repair=repair),
    ]
    return Report(checks, repaired=repair)


# --- 1. duplicates blocking a unique index ---------------------------------------------------


def _unique_indexes() -> list[tuple[str, str, list[str]]]:
    import datastore.collections  # noqa: F401  (registers every collection's indexes)

    return [
        (collection, ix.document["name"], list(ix.document["key"]))
        for collection, indexes in registered_indexes().items()
        for ix in indexes
        if ix.document.get("unique") and list(ix.document["key"]) != ["_id"]
    ]


async def check_unique_duplicates(stores: Stores, *, repair: bool) -> Check:
    check = Check("unique indexes")
    for collection, name, keys in _unique_indexes():
        # Group by the key only ($push is not implemented by FerretDB 1.24); the documents of
        # each duplicated key are read afterwards, and there are few.
        aliases = {f"k{i}": k for i, k in enumerate(keys)}
        pipeline: list[dict[str, Any]] = [
            {"$group": {"_id": {a: f"${k}" for a, k in aliases.items()}, "n": {"$sum": 1}}},
            {"$match": {"n": {"$gt": 1}}},
        ]
        groups = [g async for g in await stores.db[collection].aggregate(pipeline)]
        for group in groups:
            key = {k: group["_id"].get(a) for a, k in aliases.items()}
            check.found(f"{collection}.{name}: {key} x{group['n']}")
            if repair:
                ids = [
                    d["_id"]
                    async for d in stores.db[collection].find(key, {"_id": 1}).sort("_id", 1)
                ]
                result = await stores.db[collection].delete_many({"_id": {"$in": ids[1:]}})
                check.repaired += result.deleted_count
    if repair:
        await ensure_indexes(stores.db)
    return check


# --- 2. counters -----------------------------------------------------------------------------


async def check_counters(stores: Stores, *, repair: bool) -> Check:
    check = Check("counters")
    for kind in KINDS:
        truths = await all_truths(stores, kind)
        fields = {f: 1 for f in truths}
        async for doc in stores.db[kind].find({}, fields):
            _id = doc["_id"]
            diff = {
                f: (int(doc.get(f) or 0), counts.get(_id, 0))
                for f, counts in truths.items()
                if int(doc.get(f) or 0) != counts.get(_id, 0)
            }
            if not diff:
                continue
            changes = ", ".join(f"{f} {a} -> {b}" for f, (a, b) in diff.items())
            check.found(f"{kind} {_id}: {changes}")
            if repair and await reconcile_one(stores, kind, str(_id), None):
                check.repaired += 1
    return check


# --- 3. the search index ---------------------------------------------------------------------


async def _entries(stores: Stores, kind: str) -> dict[str, bytes | None]:
    prefix = stores.keys("sx", kind, "")
    keys = [k async for k in stores.redis.scan_iter(match=prefix + "*", count=2000)]
    out: dict[str, bytes | None] = {}
    for i in range(0, len(keys), 1000):
        chunk = keys[i : i + 1000]
        values = await stores.redis.mget(chunk)
        out |= {k[len(prefix) :]: v for k, v in zip(chunk, values, strict=True)}
    return out


async def check_search_index(stores: Stores, *, repair: bool) -> Check:
    check = Check("search index")
    if not await search_rebuild.is_built(stores):
        check.found("the built marker is missing (the index was lost or never built)")
    users = await _entries(stores, "u:t")
    async for doc in all_users(stores, search_index._USER_PROJECTION):
        hexid = str(doc["_id"])
        raw = users.pop(hexid, None)
        if raw is None:
            check.found(f"user {doc.get('username')} ({hexid}) is not indexed")
        elif orjson.loads(raw) != search_index._user_entry(doc):
            check.found(f"user {doc.get('username')} ({hexid}) is indexed with stale terms")
    for hexid in users:
        check.found(f"user {hexid} is indexed but not in MongoDB")
    posts = await _entries(stores, "p")
    async for doc in all_ready(stores, search_index._POST_PROJECTION):
        hexid = str(doc["_id"])
        raw = posts.pop(hexid, None)
        want = search_index._post_entry(doc)
        if raw is None:
            check.found(f"post {hexid} is not indexed")
        elif want is not None and _post_terms(orjson.loads(raw)) != _post_terms(want):
            check.found(f"post {hexid} is indexed under other hashtags or location")
    for hexid in posts:
        check.found(f"post {hexid} is indexed but not READY in MongoDB")
    if repair and check.differences:
        counts = await search_rebuild.rebuild_index(stores)
        check.repaired = check.differences if "users" in counts else 0
    return check


def _post_terms(entry: dict) -> tuple:
    # Engagement moves the TOP score all the time; what must agree is where the post is listed.
    return (entry["a"], entry["tags"], entry["loc"])


# --- 4. follower / following zsets -----------------------------------------------------------


async def check_graph_sets(stores: Stores, *, repair: bool) -> Check:
    check = Check("follow graph sets")
    async for doc in stores.db.users.find({}, {"_id": 1}):
        user = doc["_id"]
        bad = []
        for kind, edge_field in (("followers", "followee_id"), ("following", "follower_id")):
            key = graph.graph_key(stores, kind, user)
            if not await stores.redis.exists(key):
                continue  # never built or dropped: built from MongoDB on its next read
            cached = set(await stores.redis.zrange(key, 0, -1))
            other = "follower_id" if kind == "followers" else "followee_id"
            edges = {
                str(f[other]) async for f in stores.db.follows.find({edge_field: user}, {other: 1})
            }
            if cached != edges:
                bad.append(f"{kind} {len(cached)} cached vs {len(edges)} follows")
        if bad:
            check.found(f"user {user}: " + "; ".join(bad))
            if repair:
                await graph.rebuild_graph_cache(stores, user)
                check.repaired += 1
    return check
