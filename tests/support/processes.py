"""Real server and worker processes for tests that must cross a process boundary."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from core.settings import Settings
from tests.support.isolation import settings_env

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(settings: Settings, extra: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, **settings_env(settings), **(extra or {})}
    env["PYTHONPATH"] = str(ROOT)
    return env


def wait_ready(
    proc: subprocess.Popen, base: str, seconds: float, exited: Callable[[], str]
) -> float:
    """Poll `base`/readyz until it answers 200; raise `exited()` if the process dies first.
    Returns the deadline, for callers that wait on more after it."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise RuntimeError(exited())
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return deadline
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not become ready in {seconds:g} s")
        time.sleep(0.1)


@contextmanager
def api_server(settings: Settings, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `photogram serve` on a free port; yields the base URL once /readyz answers 200."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", "--port", str(port)],
        env=_env(settings, extra_env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base, 30, lambda: f"server exited: {proc.stderr.read().decode()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def worker_process(
    settings: Settings, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "worker"],
        env=_env(settings, extra_env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
