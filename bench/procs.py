"""The processes under test: `photogram serve --workers 2` and `photogram worker`, started with
the bench settings in their environment, and their peak memory (VmHWM)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from tests.support.processes import wait_ready

ROOT = Path(__file__).resolve().parents[1]
LOG_DIR = ROOT / "var" / "bench"


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment that makes a child process use `settings`."""
    return {**settings.as_env(), "PYTHONPATH": str(ROOT)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            out += [int(x) for x in text.split()]
    except OSError:
        pass
    return out


def api_workers(pid: int) -> list[int]:
    out = []
    for child in children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
        except OSError:
            pass
    return out


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size of a process, from /proc/<pid>/status."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


@dataclass
class Server:
    url: str
    proc: subprocess.Popen

    def worker_pids(self) -> list[int]:
        """uvicorn's supervisor spawns the API workers (and multiprocessing's resource
        tracker, which is not one)."""
        return api_workers(self.proc.pid)

    def peak_memory_mb(self) -> dict[str, float | None]:
        return {f"api_worker_{i}": vm_hwm_mb(p) for i, p in enumerate(self.worker_pids())}


def _popen(args: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / log_name, "ab")  # noqa: SIM115 (lives as long as the process)
    return subprocess.Popen(
        args,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def api_server(
    settings: Settings,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
    app_path: str | None = None,
) -> Iterator[Server]:
    """`photogram serve`, or (`app_path`) uvicorn with the same options on another ASGI app."""
    port = free_port()
    if app_path is None:
        cmd = [sys.executable, str(ROOT / "cli.py"), "serve", "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", app_path, "--port", str(port)]
        cmd += ["--log-level", "warning", "--no-access-log", "--ws", "websockets-sansio"]
    cmd += ["--workers", str(workers)]
    proc = _popen(cmd, {**settings_env(settings), **(extra_env or {})}, "server.log")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = wait_ready(proc, url, 60, lambda: f"server exited; see {LOG_DIR / 'server.log'}")
        # Every worker process must be up before load starts (each answers /readyz itself).
        while len(api_workers(proc.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        yield Server(url, proc)
    finally:
        _stop(proc)


@contextmanager
def worker_process(settings: Settings, module: str | None = None) -> Iterator[subprocess.Popen]:
    """`photogram worker`, or `python -m <module>` (bench/worker_nocron.py)."""
    cmd = (
        [sys.executable, "-m", module]
        if module
        else [sys.executable, str(ROOT / "cli.py"), "worker"]
    )
    proc = _popen(cmd, settings_env(settings), "worker.log")
    try:
        yield proc
    finally:
        _stop(proc)


def ensure_wrk() -> str:
    """wrk (Debian package) is the load generator; install it when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing the Debian package", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], check=False, env=env)
    found = shutil.which("wrk")
    if not found:
        subprocess.run([*sudo, "apt-get", "update", "-q"], check=False, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], check=True, env=env)
        found = shutil.which("wrk")
    if not found:
        raise RuntimeError("could not install wrk")
    return found
