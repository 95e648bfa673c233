"""Load from another process: wrk (1 thread, 16 connections by default) with a Lua script that
rotates pre-built GraphQL POSTs, each with its own viewer's access token.

The script counts responses that are not HTTP 200 or carry GraphQL `errors`, and prints its
figures as one JSON line from wrk's `done` hook, so nothing is parsed from wrk's text report.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

_LUA = r"""
local reqs = {
%(entries)s
}
local formatted = {}
local i = 0
-- A global, not a local: done() reads each thread's count with thread:get("bad"), which sees
-- only globals (a local here made every row report 0 bad responses).
bad = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for k, r in ipairs(reqs) do
    formatted[k] = wrk.format("POST", "/graphql",
      {["Content-Type"] = "application/json", ["Authorization"] = r[1]}, r[2])
  end
  i = math.random(#reqs) - 1
end

function request()
  i = i %% #reqs + 1
  return formatted[i]
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + (t:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "bad": %%d, "socket_errors": %%d, '
    .. '"timeouts": %%d, "p50_us": %%d, "p90_us": %%d, "p95_us": %%d, "p99_us": %%d, '
    .. '"max_us": %%d, "mean_us": %%.1f}\n',
    summary.requests, summary.duration, b, e.connect + e.read + e.write + e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
"""


def _lua_string(s: str) -> str:
    level = "=" * 4
    assert f"]{level}]" not in s
    return f"[{level}[{s}]{level}]"


def lua_script(requests: list[tuple[str, dict]]) -> str:
    """`requests`: (access token, GraphQL body) pairs, sent in rotation."""
    entries = ",\n".join(
        f"{{{_lua_string(f'Bearer {token}')}, {_lua_string(orjson.dumps(body).decode())}}}"
        for token, body in requests
    )
    return _LUA % {"entries": entries}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    bad: int
    socket_errors: int
    timeouts: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def run_wrk(
    wrk: str,
    url: str,
    requests: list[tuple[str, dict]],
    *,
    seconds: float,
    connections: int = 16,
    threads: int = 1,
    timeout_s: int = 10,
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua_script(requests))
        script = f.name
    try:
        out = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={timeout_s}s",
                "-s",
                script,
                f"{url}/graphql",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(script).unlink(missing_ok=True)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    d = json.loads(line[len("WRKJSON ") :])
    secs = d["duration_us"] / 1e6
    return WrkResult(
        requests=d["requests"],
        seconds=round(secs, 2),
        rps=round(d["requests"] / secs, 1) if secs else 0.0,
        p50_ms=round(d["p50_us"] / 1000, 1),
        p90_ms=round(d["p90_us"] / 1000, 1),
        p95_ms=round(d["p95_us"] / 1000, 1),
        p99_ms=round(d["p99_us"] / 1000, 1),
        max_ms=round(d["max_us"] / 1000, 1),
        mean_ms=round(d["mean_us"] / 1000, 1),
        bad=d["bad"],
        socket_errors=d["socket_errors"],
        timeouts=d["timeouts"],
    )
