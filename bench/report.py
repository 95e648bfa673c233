"""Results: bench/results/<timestamp>.json, a Markdown summary next to it (copied to latest.md)
and PNG charts."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

RESULTS = Path(__file__).resolve().parent / "results"
# Ratios against the peer measured in the same run (bench/peer.py), never against old figures.
TARGET = {
    "ordinary_rps_ratio": 1.5,  # feed RECENT, ordinary viewers: >= 1.5x the peer's req/s
    "heavy_rps_ratio": 5.0,  # heavy viewer: >= 5x the peer's req/s
    "p99_ms": 50.0,  # both feed rows
    "ceiling_compiled_ratio": 2.5,  # ceiling, compiled executor >= 2.5x the standard one
    "ranked_share": 0.70,  # RANKED >= 70% of RECENT req/s
    "search_p99_ms": 50.0,  # searchUsers p99
}
SEARCH_ROW = "searchUsers(first: 20)"


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=RESULTS.parent.parent
        ).stdout.strip()

    return {"hash": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def _met(ok: bool | None) -> str:
    return "not measured" if ok is None else "yes" if ok else "no"


def peer_rows(res: dict) -> dict[str, dict]:
    """The peer's rows measured in this run ({} when it did not run)."""
    return dict((res.get("peer") or {}).get("rows") or {})


def _max(c: dict, what: str) -> str:
    """The worst request in brackets after a cost row's mean, when it differs."""
    worst = c.get(f"{what}_max")
    return f" ({worst})" if worst is not None and worst != c[f"{what}_mean"] else ""


def ceilings(res: dict) -> dict[str, dict]:
    """{executor: row} of the ceiling; results from before the two executors hold one row."""
    c = res.get("ceiling") or {}
    if "rps" in c:
        return {"standard": c}
    return {k: v for k, v in c.items() if isinstance(v, dict) and "rps" in v}


def _row(name: str, r: dict) -> str:
    return (
        f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
        f"| {r['requests']:,} | {r['bad'] + r['socket_errors'] + r['timeouts']} |"
    )


def charts(res: dict, stamp: str) -> list[str]:
    files: list[str] = []
    rows = dict(res.get("http", {}))
    if rows:
        names = list(rows)
        fig, ax = plt.subplots(1, 2, figsize=(13, 4.8))
        ax[0].barh(names, [rows[n]["rps"] for n in names], color="#4a7bd0")
        peer = peer_rows(res)
        for key, color in (("ordinary", "#d04a4a"), ("heavy", "#d0a04a")):
            if key in peer:
                rps = peer[key]["rps"]
                label = f"peer {key} {rps:.0f} (this run)"
                ax[0].axvline(rps, color=color, linestyle="--", label=label)
        if not peer:
            ax[0].plot([], [], " ", label="peer did not run")
        for (executor, c), style in zip(ceilings(res).items(), (":", "-."), strict=False):
            label = f"ceiling, {executor} executor"
            ax[0].axvline(c["rps"], color="#444", linestyle=style, label=label)
        ax[0].set_xlabel("requests/s (wrk 1 thread, 16 connections)")
        ax[0].legend(fontsize=8)
        ax[0].invert_yaxis()
        y = range(len(names))
        for k, (pct, color) in enumerate(
            (("p50_ms", "#7fb3ff"), ("p95_ms", "#4a7bd0"), ("p99_ms", "#1d3f80"))
        ):
            ax[1].barh(
                [i + (k - 1) * 0.27 for i in y],
                [rows[n][pct] for n in names],
                height=0.27,
                color=color,
                label=pct[:3],
            )
        ax[1].axvline(50, color="#d04a4a", linestyle="--", label="p99 target 50 ms")
        ax[1].set_yticks(list(y), names)
        ax[1].set_xscale("log")
        ax[1].set_xlabel("latency (ms, log scale)")
        ax[1].legend(fontsize=8)
        ax[1].invert_yaxis()
        fig.tight_layout()
        name = f"{stamp}-http.png"
        fig.savefig(RESULTS / name, dpi=110)
        plt.close(fig)
        files.append(name)
    trade = res.get("tradeoff", {})
    if trade:
        strategies = list(trade)
        fig, ax = plt.subplots(1, 2, figsize=(13, 4.5))
        width = 0.38
        for k, viewer in enumerate(("ordinary", "heavy")):
            vals = [trade[s]["feed"].get(viewer, {}).get("rps", 0) for s in strategies]
            ax[0].bar(
                [i + (k - 0.5) * width for i in range(len(strategies))], vals, width, label=viewer
            )
        ax[0].set_xticks(range(len(strategies)), strategies)
        ax[0].set_ylabel("feed RECENT requests/s")
        ax[0].legend()
        sizes = sorted({int(x) for s in strategies for x in trade[s].get("delivery", {})})
        for k, s in enumerate(strategies):
            d = trade[s].get("delivery", {})
            vals = [max(d.get(str(n), {}).get("median_ms", 0), 0.1) for n in sizes]
            ax[1].bar([i + (k - 1) * 0.27 for i in range(len(sizes))], vals, 0.27, label=s)
        ax[1].axhline(1000, color="#d04a4a", linestyle="--", label="1 s target")
        ax[1].set_xticks(range(len(sizes)), [f"{n:,} followers" for n in sizes])
        ax[1].set_yscale("log")
        ax[1].set_ylabel("post-to-feed delivery, median ms (log)")
        ax[1].legend(fontsize=8)
        fig.tight_layout()
        name = f"{stamp}-tradeoff.png"
        fig.savefig(RESULTS / name, dpi=110)
        plt.close(fig)
        files.append(name)
    phases = res.get("profile", {}).get("phases")
    if phases:
        parts = _phase_parts(phases)
        fig, ax = plt.subplots(figsize=(8, 2.6))
        left = 0.0
        for (label, val), color in zip(
            parts.items(),
            ("#4a7bd0", "#d0a04a", "#7fbf7f", "#b07fd0", "#d04a4a", "#8a8a8a"),
            strict=False,
        ):
            ax.barh([0], [val], left=left, color=color, label=f"{label} {val:.1f} ms")
            left += val
        ax.set_yticks([])
        ax.set_xlabel("ms per feed request (in-process, sequential)")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=2)
        fig.tight_layout()
        name = f"{stamp}-profile.png"
        fig.savefig(RESULTS / name, dpi=110)
        plt.close(fig)
        files.append(name)
    return files


def markdown(res: dict, stamp: str, pngs: list[str]) -> str:
    m = res["machine"]
    out = [
        f"# Benchmark {stamp}",
        "",
        f"- scale **{res['scale']}**, seed {res['seed']}, commit `{res['commit']['hash'][:10]}`"
        + (" (working tree had uncommitted changes)" if res["commit"]["dirty"] else ""),
        f"- machine: {m['cores']} cores, {m['cpu_model']}, {m['memory_gb']} GB; "
        f"load average at start {res['loadavg_start']}, at end {res.get('loadavg_end')}",
        f"- run took {res.get('elapsed_s', 0) / 60:.1f} min; "
        + (
            "**MongoDB not loaded** (`--redis-only`): Redis state for push and the document "
            "cache only, so only the warm feed rows are meaningful"
            if res["dataset"].get("redis_only")
            else f"dataset loaded in this run ({res['dataset'].get('load_mongo_s')} s MongoDB)"
            if res["dataset"].get("loaded_now")
            else f"dataset reused (it loaded in {res['dataset'].get('load_mongo_s')} s into "
            "MongoDB when first built)"
        ),
        f"- dataset: {_source(res['dataset'])}{_fmt_dataset(res['dataset'].get('shape', {}))}",
        f"- server: `photogram serve --workers 2`, LOG_LEVEL=WARNING, "
        f"GRAPHQL_EXECUTOR={res.get('graphql_executor', 'standard')}; load: wrk "
        f"{res['wrk']['threads']} thread, {res['wrk']['connections']} connections, "
        f"{res['wrk']['seconds']} s per row after a {res['wrk']['warmup_s']} s warm-up; "
        "every response checked for HTTP 200 without GraphQL `errors`",
        *(
            f"- sections {', '.join(sorted(res['supplements']))} come from follow-up runs "
            + "; ".join(
                f"{k}: {v['run']} (load average {v['loadavg_start']})"
                for k, v in sorted(res["supplements"].items())
            )
            + " (`python -m bench --sections ...`), merged into this file"
            for _ in [0]
            if res.get("supplements")
        ),
        "- the Redis document cache is pre-warmed with every post and user (FerretDB answers a "
        "miss's `_id $in` with a collection scan; see below)",
        "",
    ]
    rows = res.get("http", {})
    main = rows.get("feed RECENT, ordinary viewers")
    heavy = rows.get("feed RECENT, heavy viewers")
    peer = peer_rows(res)
    if main and heavy:
        out += [
            "## Against the targets",
            "",
            "Ratios are against the PostGraphile peer measured in this run, on the same machine "
            "and dataset, with the same viewers and wrk settings, one server at a time."
            if peer
            else "**The peer did not run in this run**, so the ratios to it are not measured"
            + (f": {res['peer']['error'][:300]}" if (res.get("peer") or {}).get("error") else "."),
            "",
            "| | Photogram | peer (PostGraphile, this run) | ratio | target | met |",
            "| --- | ---: | ---: | ---: | --- | --- |",
        ]
        for key, r, name in (
            ("ordinary", main, "ordinary viewers"),
            ("heavy", heavy, "heavy viewer (1,000 followees)"),
        ):
            want = TARGET[f"{key}_rps_ratio"]
            p = peer.get(key)
            out.append(
                f"| {name}, req/s | {r['rps']:.0f} | "
                + (f"{p['rps']:.0f} | {_ratio(r['rps'], p['rps'])}" if p else "did not run | ")
                + f" | >= {want:g}x peer | {_met(r['rps'] >= want * p['rps'] if p else None)} |"
            )
            out.append(
                f"| {name}, p99 ms | {r['p99_ms']:.1f} | "
                + (f"{p['p99_ms']:.1f} | {_ratio(r['p99_ms'], p['p99_ms'])}" if p else " | ")
                + f" | < {TARGET['p99_ms']:g} ms | {_met(r['p99_ms'] < TARGET['p99_ms'])} |"
            )
        ceil = ceilings(res)
        std, comp = ceil.get("standard"), ceil.get("compiled")
        if std and comp:
            want = TARGET["ceiling_compiled_ratio"]
            fallback = comp.get("executor", "compiled") != "compiled"
            out.append(
                f"| ceiling (same shape, static data), compiled vs standard executor, req/s | "
                f"{comp['rps']:.0f} vs {std['rps']:.0f} | | {_ratio(comp['rps'], std['rps'])} | "
                f">= {want:g}x standard | "
                + (
                    "not measured (gateway.compiled missing: both ran standard)"
                    if fallback
                    else _met(comp["rps"] >= want * std["rps"])
                )
                + " |"
            )
        best = comp or std
        if best:
            out.append(
                f"| feed as a share of the ceiling ({'compiled' if comp else 'standard'}) | "
                f"{main['rps'] / best['rps']:.0%} | | | | |"
            )
        for viewer, recent in (("ordinary viewers", main), ("heavy viewer", heavy)):
            ranked = rows.get(
                "feed RANKED, ordinary viewers"
                if viewer == "ordinary viewers"
                else "feed RANKED, heavy viewers"
            )
            if ranked:
                share = ranked["rps"] / recent["rps"] if recent["rps"] else 0.0
                out.append(
                    f"| RANKED vs RECENT, {viewer}, req/s | {ranked['rps']:.0f} vs "
                    f"{recent['rps']:.0f} | | {share:.0%} | >= {TARGET['ranked_share']:.0%} | "
                    f"{_met(share >= TARGET['ranked_share'])} |"
                )
        search = rows.get(SEARCH_ROW)
        if search:
            out.append(
                f"| searchUsers, p99 ms | {search['p99_ms']:.1f} | | | "
                f"< {TARGET['search_p99_ms']:g} ms | "
                f"{_met(search['p99_ms'] < TARGET['search_p99_ms'])} |"
            )
        deliv = res.get("tradeoff", {}).get("hybrid (default threshold)", {}) or res.get(
            "tradeoff", {}
        ).get("push", {})
        d10k = deliv.get("delivery", {}).get("10000") if deliv else None
        if d10k:
            out.append(
                f"| delivery to 10,000 followers (push), ms | {d10k['median_ms']:.0f} | | | "
                f"< 1000 | {'yes' if d10k['median_ms'] < 1000 else 'no'} |"
            )
        rt = res.get("realtime", {})
        if rt.get("p99_ms") is not None:
            out.append(
                f"| like -> notificationAdded p99, ms | {rt['p99_ms']:.1f} | | | < 50 | "
                f"{'yes' if rt['p99_ms'] < 50 else 'no'} |"
            )
        out.append("")
    if rows or ceilings(res):  # a run of the ceiling section alone still shows its rows
        out += [
            "## HTTP rows (default setup: FEED_STRATEGY=hybrid, threshold 1,000,000)",
            "",
            "| row | req/s | p50 ms | p95 ms | p99 ms | requests | bad |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        out += [_row(n, r) for n, r in rows.items()]
        for executor, c in ceilings(res).items():
            used = c.get("executor", executor)
            others = c.get("other_rounds_rps") or []
            rounds = f" (better of 2 rounds; other {others[0]:.0f} req/s)" if others else ""
            out.append(_row(f"ceiling: same feed shape, static data, {used} executor{rounds}", c))
        out.append("")
    out += _peer_section(res, rows)
    trade = res.get("tradeoff", {})
    if trade:
        out += [
            "## Trade-off: push, pull, hybrid (one run, same dataset)",
            "",
            f"Hybrid uses CELEBRITY_FOLLOWER_THRESHOLD={res.get('hybrid_threshold'):,} "
            "(the default, 1,000,000, makes hybrid identical to push on this dataset); "
            "each strategy has its own Redis prefix with its derived state, a fresh server "
            "(`--workers 2`) and a `photogram worker`.",
            "",
            "| strategy | ordinary req/s | p50 / p99 ms | heavy req/s | p50 / p99 ms | "
            + " | ".join(f"delivery {int(k):,} followers" for k in ("100", "1000", "10000"))
            + " | API peak RSS | worker peak RSS |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for s, t in trade.items():
            o, h = t["feed"].get("ordinary", {}), t["feed"].get("heavy", {})
            cells = []
            for k in ("100", "1000", "10000"):
                d = t.get("delivery", {}).get(k)
                if not d:
                    cells.append("")
                elif d["pulled_at_read_time"]:
                    cells.append(
                        f"{d['median_ms']:.0f} ms, of which handlers {d['emit_median_ms']:.0f} ms "
                        "(pulled at read)"
                    )
                else:
                    cells.append(
                        f"{d['median_ms']:.0f} ms, of which handlers {d['emit_median_ms']:.0f} ms "
                        f"({d['active_followers']:,} active)"
                    )
            if t.get("delivery_error") and not t.get("delivery"):
                cells = ["not measured (interrupted)"] * 3
            mem = t.get("memory_mb", {})
            api = ", ".join(f"{v:.0f}" for k, v in mem.items() if k.startswith("api") and v)
            out.append(
                f"| {s} | {o.get('rps', 0):.0f} | {o.get('p50_ms', 0):.1f} / "
                f"{o.get('p99_ms', 0):.1f} | {h.get('rps', 0):.0f} | {h.get('p50_ms', 0):.1f} / "
                f"{h.get('p99_ms', 0):.1f} | " + " | ".join(cells) + f" | {api} MB | "
                f"{mem.get('worker') or 0:.0f} MB |"
            )
        out += [
            "",
            "Delivery is the median of 2 posts, from emitting `post.ready` to the post being in "
            "the timeline of the last active follower the fan-out reaches (then confirmed for "
            "all). Pulled authors (all under pull; above the threshold under hybrid) are in "
            "every follower's feed as soon as the `post.ready` handlers return: readers merge "
            "their `authored` sets at read time, which is what the read columns pay for. "
            "`handlers` is the time `emit('post.ready')` took in the emitting process (feed, "
            "search indexing, mentions) before the fan-out job could even start.",
            "",
        ]
    costs = res.get("costs", {})
    if costs:
        out += [
            "## Costs per request (in-process, datastore/instrumentation.py)",
            "",
            "Each request measured warm: sent once uncounted, then again and counted (means per "
            "request; max in brackets). RECENT page 6 uses cursors from paging in-process; "
            "RANKED new snapshot deletes the viewer's `ranked_latest` pointer (uncounted) "
            "before the counted first page, which the next counted first page then reuses; "
            "RANKED page 2 follows that page's endCursor. searchUsers rows by query shape "
            "(bench/costs.py search_shapes) besides the HTTP row's mix.",
            "",
            "| request | requests | MongoDB commands | Redis round trips | "
            "MongoDB commands by name |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for name, c in costs.items():
            if "mongo_commands_mean" not in c:
                out.append(f"| {name} | {c.get('requests', 0)} | | | {c.get('error', '')} |")
                continue
            out.append(
                f"| {name} | {c.get('requests', '')} | {c['mongo_commands_mean']}"
                f"{_max(c, 'mongo_commands')} | {c['redis_round_trips_mean']}"
                f"{_max(c, 'redis_round_trips')} | {c['mongo_by_command']} |"
            )
        out.append("")
    mem = res.get("memory_mb", {})
    if mem:
        out += [
            "Peak memory (VmHWM): "
            + ", ".join(f"{k} {v} MB" for k, v in mem.items() if v is not None),
            "",
        ]
    rt = res.get("realtime", {})
    if rt:
        out += ["## Realtime: like -> notificationAdded on another API process", ""]
        if rt.get("error"):
            out.append(f"Not measured: {rt['error']}")
        else:
            out.append(
                f"{rt.get('likes')} likes (bench/notification_latency.py): median "
                f"{rt.get('median_ms')} ms, p90 {rt.get('p90_ms')} ms, p99 {rt.get('p99_ms')} ms, "
                f"worst {rt.get('worst_ms')} ms."
            )
        out.append("")
    from bench.realtime_width import markdown as realtime_width_section

    out += realtime_width_section(res.get("realtime_width"))
    out += _search_section(res.get("search")) + _media_section(res.get("media"))
    prof = res.get("profile", {})
    if prof:
        ph = prof.get("phases", {})
        if "execution_ms" in ph:
            parts = " + ".join(f"{k} {v} ms" for k, v in _phase_parts(ph).items())
            split = (
                f"Sequential, in-process through the ASGI app, no profiler: {ph.get('total_ms')} "
                f"ms per request = {parts} (presigning {ph.get('presign_calls_per_request')} "
                "media URLs)."
            )
        else:  # results written before the phases were split this way
            split = (
                f"Sequential, in-process through the ASGI app, no profiler: {ph.get('total_ms')} "
                f"ms per request = feed reader {ph.get('feed_reader_ms')} ms + presigning "
                f"{ph.get('presign_ms')} ms + JSON encoding {ph.get('json_encode_ms')} ms + the "
                f"rest {ph.get('graphql_rest_ms')} ms."
            )
        out += [
            "## Where a feed request's time goes (ordinary viewer, RECENT, 20 posts)",
            "",
            split,
            "",
            "cProfile, cumulative ms per request (profiled, so inflated): "
            + ", ".join(f"{k} {v}" for k, v in prof.get("cumulative_ms_per_request", {}).items()),
            "",
            "| top functions by own time | calls/request | own ms/request |",
            "| --- | ---: | ---: |",
        ]
        for r in prof.get("top_own_time", [])[:15]:
            out.append(
                f"| `{r['function']}` | {r['calls_per_request']} | {r['own_ms_per_request']} |"
            )
        out.append("")
    notes = res.get("notes", [])
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    for p in pngs:
        out.append(f"![{p}]({p})")
    out.append("")
    return "\n".join(out)


def _peer_section(res: dict, rows: dict) -> list[str]:
    pr = res.get("peer")
    if not pr:
        return []
    out = ["## The peer in this run: PostGraphile v5 + PostgreSQL (pull model)", ""]
    peer = peer_rows(res)
    if not peer:
        return [*out, f"The peer did not run: {pr.get('error', 'no results')}", ""]
    out += [
        "`../shared/peer-postgraphile/run.sh` (bench/peer.py), alone on the machine, with "
        f"wrk -t1 -c{pr['wrk']['connections']} -d{pr['wrk']['seconds']}s after a "
        f"{pr.get('warmup_s')} s warm-up per case; every response checked inside wrk (HTTP 200, "
        "no `errors`, 20 posts with authors). "
        + (f"{pr['versions']}. " if pr.get("versions") else "")
        + f"Raw outputs: `{pr.get('results_dir')}`.",
        "",
        "| case | req/s | p50 ms | p99 ms | requests | bad responses | Photogram's row | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    ours = {
        "ordinary": "feed RECENT, ordinary viewers",
        "heavy": "feed RECENT, heavy viewers",
    }
    for key, r in peer.items():
        mine = rows.get(ours.get(key, ""))
        out.append(
            f"| {r.get('label', key)} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['requests']:,} | {r['bad']} | "
            + (f"{mine['rps']:.0f} req/s | {_ratio(mine['rps'], r['rps'])} |" if mine else " | |")
        )
    if pr.get("error"):
        out += ["", f"Incomplete: {pr['error']}"]
    same = res.get("same_feed_as_peer")
    if same:
        out += [
            "",
            "Photogram's first feed page against the peer's own SQL answer (run.sh's checks: "
            "the first three of its viewers and its heavy viewer): "
            + ", ".join(f"{k} {v}" for k, v in same.items())
            + ".",
        ]
    return [*out, ""]


def _search_section(sr: dict | None) -> list[str]:
    if not sr:
        return []
    out = [
        f"## Search at {sr['users']:,} users and {sr['posts']:,} posts (bench/search_bench.py)",
        "",
        "Domain level (Redis indexes plus the document cache; no HTTP), "
        f"{sr['samples']} samples per query. Index build: users rebuilt from MongoDB in "
        f"{sr.get('rebuild_users_from_mongo_s')} s, posts indexed in {sr.get('index_posts_s')} s; "
        f"index memory about {sr.get('redis_index_mb_sampled')} MB. For contrast, FerretDB "
        f"answers one `_id` lookup in {sr.get('ferretdb_find_one_by_id_ms')} ms and an `_id $in` "
        f"of 20 users in {sr.get('ferretdb_cold_in_20_users_ms')} ms (a scan).",
        "",
        "| query | p50 ms | p99 ms | results/page |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, st in sr.get("latency", {}).items():
        out.append(f"| {name} | {st['p50_ms']} | {st['p99_ms']} | {st.get('mean_results')} |")
    return [*out, ""]


def _media_section(media: dict | None) -> list[str]:
    if not media:
        return []
    out = [
        "## Upload to READY (bench/media_ready.py: in-process API, a real worker process)",
        "",
        "| file | runs | presigned PUT s | createPost s | worker to READY s | total s (median) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in media.items():
        m = r["median_s"]
        out.append(
            f"| {name} | {r['runs']} | {m['put']} | {m['create']} | {m['render']} | {m['total']} |"
        )
    return [*out, ""]


def _source(info: dict) -> str:
    source = info.get("source") or ""
    if not source.startswith("peer:"):
        return ""
    return (
        "the PostGraphile peer's own (its gen_dataset.py, dataset sha256 "
        f"`{source[5:17]}…`: the same users, follows, posts and likes; its 1,000 ordinary viewers "
        "and its heavy viewer are the rows' viewers), plus comments, photo media, 3 delivery "
        "authors and 20% inactive users on top: "
    )


def _fmt_dataset(shape: dict) -> str:
    if not shape:
        return ""
    return (
        f"{shape['users']:,} users, {shape['follows']:,} follows (median following "
        f"{shape['median_following']:.0f}, top account {shape['max_followers_plain']:,} "
        f"followers), {shape['posts']:,} posts over 30 days, {shape['likes']:,} likes, "
        f"{shape['comments']:,} comments, {shape['private_share']:.0%} private, "
        f"{shape['inactive_share']:.0%} inactive, heavy viewers (following about 1,000 "
        f"accounts): {shape['heavy_viewers']}, delivery authors with "
        + ", ".join(f"{int(v):,}" for v in shape["delivery_authors"].values())
        + " followers"
    )


def write(res: dict, stamp: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(res, indent=1, default=str))
    pngs = charts(res, stamp)
    md = markdown(res, stamp, pngs)
    path = RESULTS / f"{stamp}.md"
    path.write_text(md)
    shutil.copyfile(path, RESULTS / "latest.md")
    return path


def _phase_parts(ph: dict) -> dict[str, float]:
    """The phases of a feed request, each without the ones nested in it (bench/costs.py)."""
    if "execution_ms" not in ph:
        return {
            "feed reader (Redis, doc cache)": ph["feed_reader_ms"],
            "presign media URLs": ph["presign_ms"],
            "JSON encode": ph["json_encode_ms"],
            "GraphQL execution + extensions + ASGI": ph["graphql_rest_ms"],
        }
    return {
        "HTTP, ASGI middleware, view": ph["http_asgi_ms"],
        "parse/validation caches, gateway extensions (cost bucket)": ph[
            "parse_validate_extensions_ms"
        ],
        "execution (compiled plan, resolvers)": ph["execution_ms"],
        "feed data (one Redis script call, decoding)": ph["feed_reader_ms"],
        "presign media URLs": ph["presign_ms"],
        "JSON encode": ph["json_encode_ms"],
    }
