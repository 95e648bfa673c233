"""Pure helpers of the benchmark (bench/): the benchmark itself never runs in `make test`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench.dataset import SCALES, generate
from bench.loadgen import lua_script
from bench.report import _ratio

# What every results document carries besides its sections (bench/__main__.py writes it).
_RUN = {
    "scale": "small",
    "seed": 42,
    "commit": {"hash": "0" * 40, "dirty": False},
    "machine": {"cores": 2, "cpu_model": "x", "memory_gb": 1},
    "loadavg_start": [1.0],
    "dataset": {"source": "peer:abc"},
    "wrk": {"threads": 1, "connections": 16, "seconds": 10, "warmup_s": 3},
}


def _tiny():
    return replace(
        SCALES["small"],
        users=400,
        posts=2_000,
        likes=3_000,
        comments=200,
        heavy_viewers=3,
        heavy_follows=150,
    )


def test_the_dataset_is_reproducible_from_its_seed_and_consistent():
    a = generate(_tiny(), 7, now_ms=1_790_000_000_000)
    b = generate(_tiny(), 7, now_ms=1_790_000_000_000)
    assert a.user_ids == b.user_ids and a.post_ids == b.post_ids
    assert all((x == y).all() for x, y in zip(a.following, b.following, strict=True))
    # followers are exactly the inverse of following, with no duplicate edges
    for i, followees in enumerate(a.following):
        assert len(set(followees.tolist())) == len(followees)
        assert i not in set(followees.tolist())
        for f in followees.tolist():
            assert i in a.followers[f]
    assert sum(len(f) for f in a.followers) == sum(len(f) for f in a.following)
    # heavy viewers: 150 sampled followees plus the delivery authors they happen to follow
    assert all(150 < len(a.following[h]) <= 153 for h in a.heavy)
    counts = a.follower_counts()
    for wanted, author in a.delivery.items():
        assert counts[author] == min(wanted, 400)
    assert (np.diff(a.post_ms) >= 0).all()  # posts sorted by time: authored sets rely on it


def test_a_different_seed_gives_a_different_world():
    assert generate(_tiny(), 1).post_author.tolist() != generate(_tiny(), 2).post_author.tolist()


def test_lua_script_carries_each_token_and_body_verbatim():
    script = lua_script([("tok1", {"query": "{ a }", "variables": {"q": "x]]y"}})])
    assert "[====[Bearer tok1]====]" in script
    assert '[====[{"query":"{ a }","variables":{"q":"x]]y"}}]====]' in script


def test_ratio():
    assert _ratio(703.2, 586) == "1.20x"
    assert _ratio(1, 0) == "n/a"


# --- the peer's results (bench/peer.py) --------------------------------------------------------

PEER_SUMMARY = (
    "feed_1000_viewers requests=5903 duration_s=10.073 rps=586.0 p50_ms=26.80 p90_ms=38.10 "
    "p99_ms=45.60 max_ms=80.20 non2xx=0 socket_errors=0 bad=0\n"
    "feed_liked_1000_viewers requests=5590 duration_s=10.02 rps=557.9 p50_ms=28.10 p90_ms=40.00 "
    "p99_ms=45.90 max_ms=90.00 non2xx=0 socket_errors=0 bad=0\n"
    "feed_heavy_viewer requests=1416 duration_s=10.04 rps=141.0 p50_ms=110.30 p90_ms=150.00 "
    "p99_ms=170.40 max_ms=200.00 non2xx=2 socket_errors=1 bad=3\n"
    "typename requests=94895 duration_s=10.0 rps=9454.0 p50_ms=1.60 p90_ms=3.00 p99_ms=11.20 "
    "max_ms=30.00 non2xx=0 socket_errors=0 bad=0\n"
    "feed_sql_pgbench requests=9860 rps=987.0 p50_ms=15.30 p90_ms=30.00 p99_ms=41.90 non2xx=0 "
    "socket_errors=0 bad=0\n"
)
PEER_TABLE = (
    "PostGraphile 5.1.5 (amber preset) · PostgreSQL 15.18 · Node v24.21.0 · wrk 4.1.0\n"
    "2026-12-01 19:05 UTC · nproc 2 · Intel · wrk -t1 -c16 -d10s (after a 3s warm-up)\n"
    "dataset sha256 15013031d71becd9\n\n| case | req/s |\n"
)


def test_peer_summary_lines_become_rows_under_our_names():
    from bench.peer import parse_summary

    rows = parse_summary(PEER_SUMMARY)
    assert list(rows) == ["ordinary", "ordinary_liked", "heavy", "typename", "sql"]
    assert rows["ordinary"]["rps"] == 586.0
    assert rows["ordinary"]["p50_ms"] == 26.8 and rows["ordinary"]["p99_ms"] == 45.6
    assert rows["ordinary"]["requests"] == 5903 and rows["ordinary"]["seconds"] == 10.073
    # bad responses are counted as the peer's own table counts them: bad + non2xx + socket errors
    assert rows["heavy"]["bad"] == 6
    assert rows["typename"]["rps"] == 9454.0
    # pgbench's line has no duration or max
    assert rows["sql"]["rps"] == 987.0 and rows["sql"]["p99_ms"] == 41.9
    assert "seconds" not in rows["sql"] and "max_ms" not in rows["sql"]
    assert rows["sql"]["label"].startswith("feed + authors as one SQL query")


def test_peer_summary_skips_what_is_not_a_result_line():
    from bench.peer import parse_summary

    text = "garbage\n\nfeed_heavy_viewer requests=x rps=1 p50_ms=1 p99_ms=1\n" + (
        "new_case requests=10 rps=5.5 p50_ms=1.0 p99_ms=2.0 bad=0\n"
    )
    rows = parse_summary(text)
    assert list(rows) == ["new_case"]  # an unknown case keeps the peer's name
    assert rows["new_case"]["p90_ms"] is None and rows["new_case"]["bad"] == 0


def test_peer_results_folder_is_the_one_run_sh_names_last(tmp_path):
    from bench.peer import read_results, results_dir

    folder = tmp_path / "2026-12-01T1905Z"
    folder.mkdir()
    (folder / "summary.txt").write_text(PEER_SUMMARY)
    (folder / "table.md").write_text(PEER_TABLE)
    stdout = f"== benchmark\n| case | req/s |\n\nraw wrk output: {folder}\n"
    assert results_dir(stdout) == folder
    assert results_dir("run.sh: PostGraphile exited\n") is None
    res = read_results(results_dir(stdout))
    assert sorted(res["rows"]) == ["heavy", "ordinary", "ordinary_liked", "sql", "typename"]
    assert res["rows"]["heavy"]["p99_ms"] == 170.4 and "error" not in res
    assert res["versions"].startswith("PostGraphile 5.1.5")
    assert "nproc 2" in res["when"] and res["dataset_sha256"] == "15013031d71becd9"
    # a run that stopped before the heavy viewer: the rows it has, and what is missing
    (folder / "summary.txt").write_text(PEER_SUMMARY.splitlines()[0] + "\n")
    (folder / "table.md").unlink()
    res = read_results(folder)
    assert list(res["rows"]) == ["ordinary"] and "heavy" in res["error"]
    assert read_results(tmp_path / "nothing")["error"].startswith("no summary.txt")


def test_the_report_compares_with_the_peer_of_the_same_run():
    from bench.peer import parse_summary
    from bench.report import markdown

    def row(rps, p99):
        return {"rps": rps, "p50_ms": 10.0, "p95_ms": 20.0, "p99_ms": p99, "requests": 100}

    def ok(r):
        return {**r, "bad": 0, "socket_errors": 0, "timeouts": 0}

    res = {
        **_RUN,
        "http": {
            "feed RECENT, ordinary viewers": ok(row(900.0, 40.0)),
            "feed RECENT, heavy viewers": ok(row(700.0, 45.0)),
            "feed RANKED, ordinary viewers": ok(row(600.0, 48.0)),
            "searchUsers(first: 20)": ok(row(1000.0, 30.0)),
        },
        "ceiling": {
            "standard": ok({**row(1000.0, 30.0), "executor": "standard"}),
            "compiled": ok({**row(2600.0, 20.0), "executor": "compiled"}),
        },
        "peer": {
            "rows": parse_summary(PEER_SUMMARY),
            "wrk": {"connections": 16, "seconds": "10"},
            "warmup_s": "3",
        },
    }
    md = markdown(res, "t", [])
    assert "| ordinary viewers, req/s | 900 | 586 | 1.54x | >= 1.5x peer | yes |" in md
    assert "| heavy viewer (1,000 followees), req/s | 700 | 141 | 4.96x | >= 5x peer | no |" in md
    assert "2600 vs 1000 | | 2.60x | >= 2.5x standard | yes |" in md
    assert "| RANKED vs RECENT, ordinary viewers, req/s | 600 vs 900 | | 67% | >= 70% | no |" in md
    assert "| searchUsers, p99 ms | 30.0 | | | < 50 ms | yes |" in md
    res["peer"] = {"error": "run.sh exited with 100 after 3 s: apt-get failed"}
    md = markdown(res, "t", [])
    assert "**The peer did not run in this run**" in md and "apt-get failed" in md
    assert "| ordinary viewers, req/s | 900 | did not run |  | >= 1.5x peer | not measured |" in md


def test_peer_uuids_map_to_the_same_object_ids_and_times_every_time():
    import uuid

    from bench.dataset import _ms, _peer_oid

    u = uuid.UUID("0f0e3c1e-7a55-4d0b-9c1e-2b8f6a0c4d11")
    ms = _ms(["2026-11-23 23:51:35.374356", "2026-10-25 00:00:00.000000"])
    assert ms.tolist() == [1795477895374, 1792886400000]
    a, b = _peer_oid(ms[0] // 1000, u.bytes), _peer_oid(ms[0] // 1000, u.bytes)
    assert a == b and int(a.generation_time.timestamp()) == 1795477895
    assert _peer_oid(ms[0] // 1000, uuid.uuid4().bytes) != a


# --- costs per request (bench/costs.py) --------------------------------------------------------


def test_cost_samples_summarize_to_means_worst_and_commands_per_request():
    from collections import Counter

    from bench.costs import summarize

    out = summarize([(2, 5, Counter(find=2)), (0, 3, Counter()), (1, 4, Counter(find=1))])
    assert out == {
        "requests": 3,
        "mongo_commands_mean": 1,
        "mongo_commands_max": 2,
        "redis_round_trips_mean": 4,
        "redis_round_trips_max": 5,
        "mongo_by_command": {"find": 1.0},
    }
    assert summarize([]) == {"requests": 0, "error": "no request to measure"}


def test_search_shapes_send_the_http_rows_operation_with_each_query_shape():
    from bench import workloads
    from bench.costs import search_shapes
    from bench.dataset import user_doc
    from core.settings import Settings

    ds = generate(_tiny(), 7, now_ms=1_790_000_000_000)
    shapes = search_shapes(Settings(), ds, list(range(10)), 6)
    assert set(shapes) == {
        "2-3 letters of a name word",
        "username prefix, 4+ characters",
        "whole username",
        "full name, two words",
    }
    for reqs in shapes.values():
        assert len(reqs) == 6
        assert all(body["query"] == workloads.SEARCH_USERS for _, body in reqs)
    qs = {label: [body["variables"]["q"] for _, body in r] for label, r in shapes.items()}
    names, fulls = set(ds.usernames), {user_doc(ds, i)["full_name"] for i in range(ds.n)}
    assert all(2 <= len(q) <= 3 for q in qs["2-3 letters of a name word"])
    assert all(q in names for q in qs["whole username"])
    assert all(len(q.split()) == 2 and q in fulls for q in qs["full name, two words"])
    for prefix, whole in zip(
        qs["username prefix, 4+ characters"], qs["whole username"], strict=True
    ):
        assert len(prefix) >= 4 and whole.startswith(prefix)
    again = search_shapes(Settings(), ds, list(range(10)), 6)  # the same queries: from the seed
    assert {k: [b["variables"]["q"] for _, b in r] for k, r in again.items()} == qs


def test_the_report_lists_every_cost_row_and_a_ceiling_run_alone():
    from bench.report import markdown

    res = {
        **_RUN,
        "ceiling": {
            "standard": {"rps": 900.0, "p50_ms": 1, "p95_ms": 2, "p99_ms": 3, "requests": 9000}
            | {"bad": 0, "socket_errors": 0, "timeouts": 0},
        },
        "costs": {
            "feed RANKED first page, new snapshot, ordinary": {
                "requests": 20,
                "mongo_commands_mean": 0,
                "mongo_commands_max": 0,
                "redis_round_trips_mean": 8,
                "redis_round_trips_max": 8,
                "mongo_by_command": {},
            },
            "searchUsers(first: 20), whole username": {
                "requests": 20,
                "mongo_commands_mean": 0.5,
                "mongo_commands_max": 1,
                "redis_round_trips_mean": 13.2,
                "redis_round_trips_max": 14,
                "mongo_by_command": {"find": 0.5},
            },
            "feed RANKED page 2, ordinary": {"requests": 0, "error": "no request to measure"},
        },
    }
    md = markdown(res, "t", [])
    assert "| feed RANKED first page, new snapshot, ordinary | 20 | 0 | 8 | {} |" in md
    assert (
        "| searchUsers(first: 20), whole username | 20 | 0.5 (1) | 13.2 (14) | {'find': 0.5} |"
        in md
    )
    assert "| feed RANKED page 2, ordinary | 0 | | | no request to measure |" in md
    assert "| ceiling: same feed shape, static data, standard executor | 900 |" in md


def test_the_ceiling_serves_with_the_apps_view_and_caches():
    import asyncio

    import httpx

    from bench import ceiling, workloads
    from gateway.compiled import CompiledExecutionContext
    from gateway.errors import CodedParserCache
    from gateway.validation_cache import TextValidationCache
    from gateway.view import GatewayGraphQL

    assert ceiling.choose_executor("compiled") == (CompiledExecutionContext, "compiled")
    assert ceiling.choose_executor("standard") == (None, "standard")
    assert isinstance(ceiling.app.routes[0].endpoint, GatewayGraphQL)
    kinds = {type(e()) for e in ceiling.schema.extensions}
    assert kinds == {CodedParserCache, TextValidationCache}

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=ceiling.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
            body = {"query": workloads.FEED, "variables": {"first": 20, "order": "RECENT"}}
            return await client.post("/graphql", json=body)

    r = asyncio.run(go())
    assert r.status_code == 200 and len(r.json()["data"]["feed"]["edges"]) == 20
