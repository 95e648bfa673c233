"""The fault drills' harness: a private FerretDB and Redis (own ports, own var dir, started by
`ops/services.sh` with the flags `make run` uses), real `photogram serve` and `photogram worker`
processes against them, a GraphQL client that tallies every answer by error code, and the
drills' figures appended to `var/drills.jsonl`.

Only the private services are ever killed, stopped or flushed. MinIO stays the shared one (no
drill breaks it); each drill still has its own bucket, database and key prefix."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.settings import Settings
from tests.support.isolation import isolated_settings
from tests.support.processes import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "var" / "drills.jsonl"
# The services every other agent and test shares: a drill must never break these.
SHARED_PORTS = frozenset({37017, 36379, 39000, 37018})
# Variables that would make ops/services.sh check someone else's server instead of starting ours.
_FOREIGN = ("MONGODB_URL", "REDIS_URL", "PHOTOGRAM_VAR_DIR", "PHOTOGRAM_MONGO_PORT")


@dataclass
class PrivateServices:
    """FerretDB and Redis of our own, in `var_dir`, on free ports."""

    var_dir: Path
    mongo_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        assert not {self.mongo_port, self.redis_port} & SHARED_PORTS

    @property
    def mongo_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        return {
            **env,
            "PHOTOGRAM_VAR_DIR": str(self.var_dir),
            "PHOTOGRAM_MONGO_PORT": str(self.mongo_port),
            "PHOTOGRAM_REDIS_PORT": str(self.redis_port),
            "PYTHON": sys.executable,
        }

    def services(self, *args: str) -> None:
        """`ops/services.sh <args>` for this var dir and these ports. `start` starts only what
        does not answer (the shared MinIO answers, so it is left alone)."""
        out = subprocess.run(
            ["bash", str(ROOT / "ops" / "services.sh"), *args],
            env=self._env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stdout + out.stderr

    def start(self) -> None:
        self.services("start")

    def stop(self) -> None:
        self.services("stop")

    def pid(self, name: str) -> int:
        return int((self.var_dir / "run" / f"{name}.pid").read_text())

    def kill_ferretdb(self) -> None:
        """kill -9 and wait until it is gone."""
        pid = self.pid("ferretdb")
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)

    def redis_cli(self, *args: str) -> str:
        assert self.redis_port not in SHARED_PORTS
        out = subprocess.run(
            ["redis-cli", "-p", str(self.redis_port), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return out.stdout.strip()

    def flushall(self) -> None:
        assert self.redis_cli("flushall") == "OK"

    def stop_redis(self) -> None:
        """A clean shutdown (the AOF is flushed), as `ops/services.sh stop` does."""
        pid = self.pid("redis")
        self.redis_cli("shutdown")
        _wait_gone(pid)

    def settings(self, **overrides: object) -> Settings:
        """An isolated namespace on these services, with limits no drill should reach."""
        values: dict[str, object] = {
            "mongodb_url": self.mongo_url,
            "redis_url": self.redis_url,
            "mongo_flavor": "ferretdb",
            "rate_limit_post": "1000/hour",
            "rate_limit_like": "10000/hour",
            "rate_limit_follow": "1000/hour",
            "rate_limit_comment": "1000/hour",
            "rate_limit_login_account": "1000/minute",
            "rate_limit_login_address": "1000/minute",
            "rate_limit_register_address": "1000/hour",
            **overrides,
        }
        return isolated_settings(**values)


def _wait_gone(pid: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # A killed child of ours stays a zombie until reaped; it no longer serves anything.
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return
        except OSError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still alive after {seconds} s")


# --- processes -------------------------------------------------------------------------------


def _popen(args: list[str], settings: Settings, log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings.as_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        args,
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left of the group (a supervisor's workers) goes with it.
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def api_worker_pids(proc: subprocess.Popen) -> list[int]:
    """The API worker processes uvicorn's supervisor spawned (not multiprocessing's helpers)."""
    out: list[int] = []
    task_dir = Path(f"/proc/{proc.pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in kids:
            try:
                cmdline = Path(f"/proc/{kid}/cmdline").read_bytes()
                state = Path(f"/proc/{kid}/stat").read_text().split()[2]
            except OSError:
                continue
            if b"spawn_main" in cmdline and state != "Z":
                out.append(int(kid))
    return sorted(out)


@dataclass
class ApiServer:
    url: str
    proc: subprocess.Popen
    workers: int

    def worker_pids(self) -> list[int]:
        return api_worker_pids(self.proc)


@contextmanager
def api_server(settings: Settings, log_dir: Path, workers: int = 1) -> Iterator[ApiServer]:
    port = free_port()
    cmd = [sys.executable, str(ROOT / "cli.py"), "serve", "--port", str(port)]
    cmd += ["--workers", str(workers)]
    proc = _popen(cmd, settings, log_dir / "api.log")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = wait_ready(proc, url, 60, lambda: f"server exited; see {log_dir / 'api.log'}")
        if workers > 1:
            while len(api_worker_pids(proc)) < workers:
                assert time.monotonic() < deadline, "API workers did not all start"
                time.sleep(0.1)
        yield ApiServer(url, proc, workers)
    finally:
        _stop(proc)


class Worker:
    """`photogram worker`, which can be killed and started again."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.log = log_dir / "worker.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [sys.executable, str(ROOT / "cli.py"), "worker"]
        self.proc = _popen(cmd, self.settings, self.log)

    def kill9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


@contextmanager
def worker_process(settings: Settings, log_dir: Path, start: bool = True) -> Iterator[Worker]:
    worker = Worker(settings, log_dir)
    if start:
        worker.start()
    try:
        yield worker
    finally:
        worker.stop()


# --- the client and the figures ---------------------------------------------------------------


@dataclass
class Tally:
    """Every answer a drill got: requests made, and errors by `extensions.code` (TRANSPORT when
    no HTTP answer came, HTTP_<status> for a non-GraphQL error page)."""

    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "errors": dict(self.errors)}


class Answer(dict):
    @property
    def codes(self) -> list[str]:
        return [(e.get("extensions") or {}).get("code") or "NO_CODE" for e in self.errors]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.get("errors") or []

    def ok(self) -> Any:
        assert not self.errors, self.errors
        return self["data"]


class DrillClient:
    """GraphQL over HTTP to a real server, counting every answer in `tally`."""

    def __init__(self, base: str, tally: Tally | None = None, timeout: float = 20) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=timeout)
        self.tally = tally or Tally()

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> Answer:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.tally.requests += 1
        try:
            resp = await self.http.post(
                "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
        except httpx.TransportError as exc:
            self.tally.errors["TRANSPORT"] += 1
            return Answer(errors=[{"message": repr(exc), "extensions": {"code": "TRANSPORT"}}])
        try:
            answer = Answer(resp.json())
        except ValueError:
            self.tally.errors[f"HTTP_{resp.status_code}"] += 1
            return Answer(errors=[{"extensions": {"code": f"HTTP_{resp.status_code}"}}])
        answer["_status"] = resp.status_code
        for code in answer.codes:
            self.tally.errors[code] += 1
        return answer

    async def aclose(self) -> None:
        await self.http.aclose()


def record(drill: str, **figures: Any) -> None:
    """One JSON line per drill in var/drills.jsonl (and on stdout, for `-s`)."""
    line = json.dumps({"drill": drill, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ"), **figures})
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a") as f:
        f.write(line + "\n")
    print(line)


async def eventually(probe, seconds: float, every: float = 0.2) -> Any:
    """Await `probe()` until it returns something truthy; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = await probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {seconds:g} s"
        await asyncio.sleep(every)


async def reconcile(settings: Settings) -> dict[str, int]:
    """Recount the counters of documents written recently (maintenance/reconcile.py), with no
    grace period: the drill's writes are over."""
    from datastore.stores import open_stores
    from maintenance.reconcile import reconcile_dirty

    stores = open_stores(settings)
    try:
        return await reconcile_dirty(stores, grace_seconds=0)
    finally:
        await stores.close()
