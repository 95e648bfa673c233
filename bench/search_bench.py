"""Search latency at scale: p50/p99 of each search and page, against the real services.

    .venv/bin/python -m bench.search_bench --users 100000 --posts 1000000

Loads synthetic users into its own MongoDB database (bulk insert) and rebuilds the user index
from it (`search.index.rebuild_index`, timed). Posts are generated and indexed straight into
Redis with `search.index.bulk_index` (the rebuild's code path) and placed in the shared
document cache: loading and scanning 1M posts through FerretDB/SQLite (which scans even on
`_id`) takes far longer than the measurement itself. So page timings are warm-cache timings;
the cold cost of a FerretDB read is measured and printed separately. Then each query function
of `search.queries` is timed (domain level: Redis plus cache reads; no HTTP/GraphQL). Everything
it created (database, Redis keys under its own prefix) is deleted at the end. Results: stdout
and bench/results/search.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId

from core.settings import get_settings
from datastore.doc_cache import post_cache, user_cache
from datastore.stores import Stores, open_stores
from search import index, queries

FIRST = [
    "José",
    "María",
    "Zoë",
    "Åsa",
    "Łukasz",
    "François",
    "Anaïs",
    "Jürgen",
    "Søren",
    "Ana",
    "Juan",
    "Pedro",
    "Lucía",
    "Sofía",
    "Mateo",
    "Liam",
    "Emma",
    "Olivia",
    "Noah",
    "Ava",
    "Elijah",
    "Mia",
    "Lucas",
    "Amelia",
    "Ethan",
    "Harper",
    "Aiden",
    "Chloé",
    "Léa",
    "Hugo",
    "Jules",
    "Chen",
    "Wei",
    "Yuki",
    "Hiro",
    "Sakura",
    "Priya",
    "Arjun",
    "Ravi",
    "Fatima",
    "Omar",
    "Aisha",
    "Ali",
    "Kofi",
    "Amara",
    "Nia",
    "Ines",
    "Rui",
    "Tomás",
    "Joaquín",
    "Mónica",
    "Raúl",
    "Björn",
    "Ingrid",
    "Freya",
    "Ólafur",
    "Dmitri",
    "Olga",
    "Ivan",
    "Nadia",
    "Erik",
    "Astrid",
    "Giulia",
    "Marco",
    "Luca",
    "Chiara",
    "Matteo",
    "Nora",
    "Elena",
    "Sara",
    "Laura",
    "Paula",
    "Diego",
    "Carlos",
    "Andrés",
    "Sebastián",
    "Valentina",
    "Camila",
    "Gabriel",
    "Samuel",
    "Daniel",
    "David",
    "Maya",
    "Leo",
    "Max",
    "Ella",
    "Ruby",
    "Oscar",
    "Felix",
    "Jack",
    "Alice",
]
LAST = [
    "García",
    "Martínez",
    "López",
    "González",
    "Rodríguez",
    "Fernández",
    "Pérez",
    "Sánchez",
    "Gómez",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Nakamura",
    "Tanaka",
    "Suzuki",
    "Watanabe",
    "Kim",
    "Lee",
    "Park",
    "Choi",
    "Nguyen",
    "Tran",
    "Singh",
    "Kumar",
    "Patel",
    "Shah",
    "Khan",
    "Ahmed",
    "Hassan",
    "Okafor",
    "Mensah",
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Costa",
    "Pereira",
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Novák",
    "Horváth",
    "Nagy",
    "Popescu",
    "Ivanov",
    "Petrov",
    "Andersson",
    "Johansson",
    "Hansen",
    "Nielsen",
]
SYLLABLES = [
    "sun",
    "set",
    "tra",
    "vel",
    "food",
    "ie",
    "love",
    "cat",
    "dog",
    "art",
    "photo",
    "gra",
    "phy",
    "fit",
    "ness",
    "beach",
    "life",
    "style",
    "ka",
    "mo",
    "ri",
    "na",
    "to",
    "shi",
    "lu",
    "ve",
    "ta",
    "co",
    "bu",
    "rri",
    "to",
    "pi",
    "zza",
    "cof",
    "fee",
    "mor",
    "ning",
    "night",
    "sky",
    "blue",
    "green",
    "city",
    "lights",
    "mount",
    "ain",
    "lake",
    "sea",
    "wave",
    "surf",
    "ski",
    "snow",
    "fall",
    "spring",
    "sum",
    "mer",
    "win",
    "ter",
    "flo",
    "wer",
    "gar",
    "den",
]
CITIES = [  # (name, lat, lng)
    ("Paris", 48.8566, 2.3522),
    ("Madrid", 40.4168, -3.7038),
    ("New York", 40.7128, -74.0060),
    ("Tokyo", 35.6762, 139.6503),
    ("São Paulo", -23.5505, -46.6333),
    ("Berlin", 52.52, 13.405),
    ("Lagos", 6.5244, 3.3792),
    ("Mumbai", 19.076, 72.8777),
]
PLACE_KINDS = [
    "Café",
    "Museo",
    "Museum",
    "Park",
    "Parque",
    "Plaza",
    "Bar",
    "Restaurant",
    "Beach",
    "Market",
    "Gallery",
    "Hotel",
]


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts))


def make_users(rng: random.Random, n: int) -> list[dict]:
    now = datetime.now(UTC)
    seps = ["", ".", "_"]
    users, seen = [], set()
    while len(users) < n:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        base = f"{first}{rng.choice(seps)}{last}".lower()
        base = base.encode("ascii", "ignore").decode()
        username = f"{base}{rng.randrange(10_000)}" if rng.random() < 0.9 else base
        if username in seen:
            continue
        seen.add(username)
        followers = min(int(rng.paretovariate(0.9)) - 1, 50_000_000)
        users.append(
            {
                "_id": ObjectId(),
                "username": username,
                "username_lower": username,
                "email": f"{username}@bench.test",
                "password_hash": "!",
                "full_name": f"{first} {last}",
                "is_private": rng.random() < 0.15,
                "follower_count": followers,
                "following_count": 0,
                "post_count": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    return users


def make_tags(rng: random.Random, n: int) -> list[str]:
    tags = {_word(rng, rng.randint(2, 4)) for _ in range(n * 2)}
    return sorted(tags)[:n]


def make_locations(rng: random.Random, n: int) -> list[dict]:
    out = []
    for _ in range(n):
        city, lat, lng = rng.choice(CITIES)
        name = f"{rng.choice(PLACE_KINDS)} {_word(rng, 2).title()} {city}"
        out.append(
            {
                "id": ObjectId(),
                "name": name,
                "lat": round(lat + rng.uniform(-0.2, 0.2), 5),
                "lng": round(lng + rng.uniform(-0.2, 0.2), 5),
            }
        )
    return out


def make_posts(
    rng: random.Random, n: int, users: list[dict], tags: list[str], locations: list[dict]
) -> Any:
    # Zipf-ish popularity: a few hashtags, locations and authors get most posts.
    tag_cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(tags))))
    loc_cum = list(itertools.accumulate(1 / (i + 1) ** 0.8 for i in range(len(locations))))
    start = datetime.now(UTC) - timedelta(days=365)
    batch: list[dict] = []
    for i in range(n):
        created = start + timedelta(seconds=i * 31_536_000 / n)
        k = rng.choice((0, 1, 1, 2, 2, 3))
        post_tags = sorted(set(rng.choices(tags, cum_weights=tag_cum, k=k))) if k else []
        loc = rng.choices(locations, cum_weights=loc_cum)[0] if rng.random() < 0.3 else None
        batch.append(
            {
                "_id": ObjectId.from_datetime(created),
                "author_id": rng.choice(users)["_id"],
                "status": "READY",
                "caption": " ".join(f"#{t}" for t in post_tags),
                "hashtags": post_tags,
                "mentions": [],
                "location": loc,
                "media": [],
                "like_count": int(rng.paretovariate(1.1)) - 1,
                "comment_count": int(rng.paretovariate(1.5)) - 1,
                "share_count": 0,
                "created_at": created,
                "published_at": created,
                "updated_at": created,
            }
        )
        if len(batch) == 10_000:
            yield batch
            batch = []
    if batch:
        yield batch


async def _time(
    fn: Callable[[], Awaitable[Any]], samples: int
) -> tuple[dict[str, float], list[int]]:
    ms: list[float] = []
    sizes: list[int] = []
    for _ in range(samples):
        t = time.perf_counter()
        page = await fn()
        ms.append((time.perf_counter() - t) * 1000)
        sizes.append(len(page.items))
    ms.sort()
    stats = {
        "n": samples,
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "max_ms": round(ms[-1], 2),
        "mean_results": round(sum(sizes) / len(sizes), 1),
    }
    return stats, sizes


async def _index_memory_mb(stores: Stores, sample: int = 3000) -> float:
    """Sum of MEMORY USAGE over the search keys, extrapolated from a random sample."""
    keys = [k async for k in stores.redis.scan_iter(match=stores.keys("sx", "*"), count=5000)]
    if not keys:
        return 0.0
    picked = random.Random(1).sample(keys, min(sample, len(keys)))
    async with stores.redis.pipeline(transaction=False) as pipe:
        for key in picked:
            pipe.memory_usage(key, samples=0)
        sizes = await pipe.execute()
    return round(sum(x or 0 for x in sizes) * len(keys) / len(picked) / 1e6, 1)


async def run(n_users: int, n_posts: int, samples: int, seed: int, keep: bool) -> dict:
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    settings = get_settings().model_copy(
        update={"mongodb_db": f"bench_search_{tag}", "redis_prefix": f"bench:search:{tag}:"}
    )
    stores: Stores = open_stores(settings)
    report: dict[str, Any] = {"users": n_users, "posts": n_posts, "samples": samples}
    try:
        mem0 = (await stores.redis.info("memory"))["used_memory"]
        t = time.perf_counter()
        users = make_users(rng, n_users)
        for i in range(0, len(users), 10_000):
            await stores.db.users.insert_many(users[i : i + 10_000], ordered=False)
        report["load_users_mongo_s"] = round(time.perf_counter() - t, 1)
        print(f"users in MongoDB: {n_users} in {report['load_users_mongo_s']}s", flush=True)

        # Rebuild from MongoDB (users only: posts go straight to Redis, below).
        t = time.perf_counter()
        await index.rebuild_index(stores)
        report["rebuild_users_from_mongo_s"] = round(time.perf_counter() - t, 1)
        print(f"user index rebuilt from MongoDB in {report['rebuild_users_from_mongo_s']}s")

        tags = make_tags(rng, max(1000, n_posts // 20))
        locations = make_locations(rng, max(500, n_posts // 50))
        t = time.perf_counter()
        n_cached = 0

        async def posts_iter():
            nonlocal n_cached
            for batch in make_posts(rng, n_posts, users, tags, locations):
                # Posts live in the shared document cache (warm), as after their first read.
                cache = post_cache(stores)
                async with stores.redis_raw.pipeline(transaction=False) as pipe:
                    for doc in batch:
                        pipe.set(cache.key(doc["_id"]), cache.encode(doc), ex=7200)
                    await pipe.execute()
                n_cached += len(batch)
                for doc in batch:
                    yield doc

        async def no_users():
            for _ in ():
                yield {}

        counts = await index.bulk_index(stores, no_users(), posts_iter())
        report["index_posts_s"] = round(time.perf_counter() - t, 1)
        report["index_counts"] = counts
        # Users in the document cache too (warm), as after their first read.
        ucache = user_cache(stores)
        async with stores.redis_raw.pipeline(transaction=False) as pipe:
            for u in users:
                pipe.set(ucache.key(u["_id"]), ucache.encode(u), ex=7200)
            await pipe.execute()
        mem1 = (await stores.redis.info("memory"))["used_memory"]
        report["redis_used_memory_delta_mb"] = round((mem1 - mem0) / 1e6, 1)
        report["redis_index_mb_sampled"] = await _index_memory_mb(stores)
        print(
            f"posts indexed: {counts} in {report['index_posts_s']}s; search keys"
            f" ~{report['redis_index_mb_sampled']} MB (sampled MEMORY USAGE, without the"
            f" document cache); used_memory delta {report['redis_used_memory_delta_mb']} MB",
            flush=True,
        )

        # What a cold page costs on FerretDB: one $in of 20 user ids (a scan of users).
        ids = [u["_id"] for u in rng.sample(users, 20)]
        t = time.perf_counter()
        _ = [d async for d in stores.db.users.find({"_id": {"$in": ids}})]
        report["ferretdb_cold_in_20_users_ms"] = round((time.perf_counter() - t) * 1000, 1)
        t = time.perf_counter()
        await stores.db.users.find_one({"_id": users[-1]["_id"]})
        report["ferretdb_find_one_by_id_ms"] = round((time.perf_counter() - t) * 1000, 1)
        print(
            f"FerretDB cold reads at {n_users} users: $in of 20 ids"
            f" {report['ferretdb_cold_in_20_users_ms']} ms,"
            f" find_one by _id {report['ferretdb_find_one_by_id_ms']} ms",
            flush=True,
        )

        # The viewer follows 500 accounts (the accounts domain's following zset).
        viewer = users[0]["_id"]
        followed = rng.sample(users, 500)
        await stores.redis.zadd(
            stores.keys("following", viewer), {str(u["_id"]): time.time() for u in followed}
        )
        await stores.db.users.update_one({"_id": viewer}, {"$set": {"following_count": 500}})

        def user_query() -> str:
            u = rng.choice(users)
            source = rng.choice([u["username"], u["full_name"].split()[-1], u["full_name"]])
            return source[: rng.randint(1, min(8, len(source)))]

        def tag_query() -> str:
            t_ = rng.choice(tags)
            return t_[: rng.randint(1, min(6, len(t_)))]

        def loc_query() -> str:
            name = rng.choice(locations)["name"]
            word = rng.choice(name.split())
            return word[: rng.randint(2, len(word))]

        popular_tags = tags[:50]
        popular_locs = [loc["id"] for loc in locations[:50]]
        cases: dict[str, Callable[[], Awaitable[Any]]] = {
            "searchUsers (viewer, 1-8 chars)": lambda: queries.search_users(
                stores, viewer, user_query(), 20, None
            ),
            "searchUsers (anonymous)": lambda: queries.search_users(
                stores, None, user_query(), 20, None
            ),
            "searchUsers 1 char": lambda: queries.search_users(
                stores, viewer, rng.choice("abcdefghijklmnoprstvwz"), 20, None
            ),
            "searchUsers two words": lambda: queries.search_users(
                stores,
                viewer,
                f"{rng.choice(FIRST)} {rng.choice(LAST)[:3]}",
                20,
                None,
            ),
            "searchHashtags (1-6 chars)": lambda: queries.search_hashtags(
                stores, tag_query(), 20, None
            ),
            "searchLocations (text)": lambda: queries.search_locations(
                stores, loc_query(), 20, None
            ),
            "searchLocations (near a point, 5 km)": lambda: queries.search_locations(
                stores,
                "",
                20,
                None,
                lat=(c := rng.choice(CITIES))[1] + rng.uniform(-0.1, 0.1),
                lng=c[2] + rng.uniform(-0.1, 0.1),
                radius_km=5,
            ),
            # Pages as an anonymous viewer: a logged-in viewer's visibility check
            # (services/visibility -> graph.ensure_graph_cache) reads the viewer's user document
            # from MongoDB whenever a private author is on the page, which on FerretDB is a scan
            # of `users`; that is timed separately below with few samples.
            "hashtag posts RECENT (top-50 tag)": lambda: queries.hashtag_posts(
                stores, None, rng.choice(popular_tags), "RECENT", 20, None
            ),
            "hashtag posts TOP (top-50 tag)": lambda: queries.hashtag_posts(
                stores, None, rng.choice(popular_tags), "TOP", 20, None
            ),
            "hashtag posts TOP (any tag)": lambda: queries.hashtag_posts(
                stores, None, rng.choice(tags), "TOP", 20, None
            ),
            "location posts RECENT (top-50 place)": lambda: queries.location_posts(
                stores, None, rng.choice(popular_locs), "RECENT", 20, None
            ),
            "hashtag posts RECENT, logged-in viewer": lambda: queries.hashtag_posts(
                stores, viewer, rng.choice(popular_tags), "RECENT", 20, None
            ),
        }
        # Warm connections and the viewer's block set.
        for name, fn in cases.items():
            if "logged-in" not in name:
                await fn()
        results = {}
        for name, fn in cases.items():
            stats, _ = await _time(fn, 10 if "logged-in" in name else samples)
            results[name] = stats
            print(
                f"{name:42s} p50 {stats['p50_ms']:7.2f} ms  p99 {stats['p99_ms']:7.2f} ms"
                f"  (results/page {stats['mean_results']})",
                flush=True,
            )
        report["latency"] = results
        return report
    finally:
        if not keep:
            await stores.mongo.drop_database(settings.mongodb_db)
            keys = [k async for k in stores.redis.scan_iter(match=f"{settings.redis_prefix}*")]
            for i in range(0, len(keys), 1000):
                await stores.redis.delete(*keys[i : i + 1000])
        await stores.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the data (debugging)")
    args = parser.parse_args()
    report = asyncio.run(run(args.users, args.posts, args.samples, args.seed, args.keep))
    out = Path(__file__).parent / "results" / "search.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
