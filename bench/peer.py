"""The PostGraphile peer (../shared/peer-postgraphile), run in the same bench run as Photogram, one
server at a time, and its dataset, which the small scale loads into Photogram too.

`run()` starts the peer's own harness (`run.sh`: it copies itself to /tmp/pg-peer when its folder
is read-only, installs PostgreSQL and wrk with apt-get when missing, sets up its cluster and
PostGraphile, checks the answers, runs its five wrk/pgbench cases and stops both servers) with
our DURATION, WARMUP and CONNECTIONS, then reads `summary.txt` from the results folder it names
on its last line (`raw wrk output: /tmp/pg-peer/results/<UTC time>`). Each line there is

    <case> requests=N duration_s=S rps=R p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. non2xx=N
        socket_errors=N bad=N

(pgbench's line has no duration_s or max_ms). Bad responses are counted as the peer's own
table counts them: bad + non2xx + socket_errors.

`ensure_dataset_files()` writes the peer's dataset (gen_dataset.py, fixed seed: same bytes every
time) under var/bench/peer-dataset once; bench/dataset.py reads it for BENCH_SCALE=small.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_DIR = Path(os.environ.get("BENCH_PEER_DIR", ROOT.parent / "shared" / "peer-postgraphile"))
RESULTS_ROOT = Path("/tmp/pg-peer/results")
LOG = ROOT / "var" / "bench" / "peer.log"
DATASET_DIR = ROOT / "var" / "bench" / "peer-dataset"
TIMEOUT_S = 30 * 60  # first run: apt-get, initdb, npm install; then about 5 x (warmup + duration)

# The peer's case names (run.sh) -> ours.
CASES = {
    "feed_1000_viewers": "ordinary",
    "feed_liked_1000_viewers": "ordinary_liked",
    "feed_heavy_viewer": "heavy",
    "typename": "typename",
    "feed_sql_pgbench": "sql",
}
LABELS = {
    "ordinary": "home feed, first: 20, 1,000 viewers rotating",
    "ordinary_liked": "same + viewerHasLiked(viewer) per post",
    "heavy": "home feed, heavy viewer (follows 1,000)",
    "typename": "{ __typename } (PostGraphile ceiling)",
    "sql": "feed + authors as one SQL query, pgbench, no GraphQL",
}
_RESULTS_LINE = re.compile(r"^raw wrk output: (\S+)\s*$", re.MULTILINE)


def parse_summary(text: str) -> dict[str, dict]:
    """summary.txt -> {our case name: {rps, p50_ms, p90_ms, p99_ms, requests, bad, ...}}.
    Unknown cases keep the peer's name; lines that are not `name key=value ...` are skipped."""
    out: dict[str, dict] = {}
    for line in text.splitlines():
        name, *pairs = line.split() or [""]
        if not pairs or not all("=" in p for p in pairs):
            continue
        kv = dict(p.split("=", 1) for p in pairs)
        try:
            row = {
                "requests": int(kv["requests"]),
                "rps": float(kv["rps"]),
                "p50_ms": float(kv["p50_ms"]),
                "p90_ms": float(kv["p90_ms"]) if "p90_ms" in kv else None,
                "p99_ms": float(kv["p99_ms"]),
                "bad": int(kv.get("bad", 0))
                + int(kv.get("non2xx", 0))
                + int(kv.get("socket_errors", 0)),
            }
        except (KeyError, ValueError):
            continue
        if "duration_s" in kv:
            row["seconds"] = float(kv["duration_s"])
        if "max_ms" in kv:
            row["max_ms"] = float(kv["max_ms"])
        row["label"] = LABELS.get(CASES.get(name, name), name)
        out[CASES.get(name, name)] = row
    return out


def results_dir(stdout: str, started: float | None = None) -> Path | None:
    """The folder run.sh names on its last line; else the newest one made since `started`."""
    found = _RESULTS_LINE.findall(stdout)
    if found:
        return Path(found[-1])
    if started is None or not RESULTS_ROOT.is_dir():
        return None
    fresh = [p for p in RESULTS_ROOT.iterdir() if p.is_dir() and p.stat().st_mtime >= started]
    return max(fresh, key=lambda p: p.stat().st_mtime) if fresh else None


def parse_table_header(text: str) -> dict[str, str]:
    """table.md's first lines: versions, date and machine, wrk options, dataset sha256."""
    lines = [x.strip() for x in text.splitlines()]
    info: dict[str, str] = {}
    if lines and lines[0].startswith("PostGraphile"):
        info["versions"] = lines[0]
    if len(lines) > 1 and "nproc" in lines[1]:
        info["when"] = lines[1]
    for x in lines:
        if x.startswith("dataset sha256 "):
            info["dataset_sha256"] = x.split()[-1]
    return info


def _tail(path: Path, n: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def run(*, duration: float, warmup: float, connections: int, log=print) -> dict:
    """Run the peer harness once; returns its rows, or {"error": ...} when it did not run."""
    script = PEER_DIR / "run.sh"
    if not script.is_file():
        return {"error": f"{script} not found"}
    env = {
        **os.environ,
        "DURATION": str(max(1, round(duration))),
        "WARMUP": str(max(1, round(warmup))),
        "CONNECTIONS": str(connections),
        "THREADS": "1",
    }
    LOG.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    t0 = time.perf_counter()
    with open(LOG, "w") as log_file:
        proc = subprocess.Popen(
            ["bash", str(script)],
            cwd=PEER_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            rc = proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            if proc.poll() is None:
                # run.sh traps TERM and stops PostGraphile, PostgreSQL and a wrk in flight.
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    elapsed = round(time.perf_counter() - t0, 1)
    stdout = LOG.read_text(errors="replace")
    if rc != 0:
        why = "timed out" if rc is None else f"exited with {rc}"
        return {"error": f"run.sh {why} after {elapsed} s: {_tail(LOG)}"[-1500:], "log": str(LOG)}
    out_dir = results_dir(stdout, started)
    if out_dir is None:
        return {"error": f"run.sh printed no results folder: {_tail(LOG)}"[-1500:]}
    res = read_results(out_dir)
    res.update(
        elapsed_s=elapsed,
        wrk={"threads": 1, "connections": connections, "seconds": env["DURATION"]},
        warmup_s=env["WARMUP"],
        log=str(LOG),
    )
    log_ok = ", ".join(
        f"{k} {r['rps']:.0f} req/s p99 {r['p99_ms']:.1f} ms bad {r['bad']}"
        for k, r in res["rows"].items()
    )
    log(f"  peer ({elapsed} s): {log_ok}")
    return res


def read_results(out_dir: Path) -> dict:
    """One run's folder: its rows (summary.txt), versions and dataset hash (table.md), and an
    `error` naming the cases it lacks."""
    summary = out_dir / "summary.txt"
    if not summary.is_file():
        return {"rows": {}, "error": f"no summary.txt in {out_dir}"}
    rows = parse_summary(summary.read_text())
    res: dict = {"rows": rows, "results_dir": str(out_dir)}
    if (out_dir / "table.md").is_file():
        res.update(parse_table_header((out_dir / "table.md").read_text()))
    missing = [c for c in ("ordinary", "heavy", "typename", "sql") if c not in rows]
    if missing:
        res["error"] = f"cases missing from {summary}: {', '.join(missing)}"
    return res


def expected_feeds(responses: Path = Path("/tmp/pg-peer/responses")) -> dict[str, list[str]]:
    """The first pages (post uuids, newest first) run.sh computed with plain SQL for the viewers
    it checks: viewer1..3 (the first three of viewers.txt) and heavy; {} before any peer run."""
    out: dict[str, list[str]] = {}
    for name in ("viewer1", "viewer2", "viewer3", "heavy"):
        path = responses / f"feed-{name}.expected"
        if path.is_file():
            out[name] = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    return out


# --- the peer's dataset ------------------------------------------------------------------------


def generator_sha() -> str:
    return hashlib.sha256((PEER_DIR / "gen_dataset.py").read_bytes()).hexdigest()


def ensure_dataset_files() -> tuple[Path, dict]:
    """The peer's TSVs under var/bench/peer-dataset (generated once per generator version:
    about 15 s), and their manifest (counts, dataset_sha256)."""
    sha = generator_sha()
    out = DATASET_DIR / sha[:16]
    manifest = out / "manifest.json"
    if not manifest.is_file():
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"generating the peer's dataset into {out} (gen_dataset.py, fixed seed)", flush=True)
        subprocess.run(
            [sys.executable, str(PEER_DIR / "gen_dataset.py"), "--out", str(tmp)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    return out, json.loads(manifest.read_text())
