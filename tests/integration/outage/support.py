"""Outages for in-process tests: an app whose Redis is a closed port, a private redis-server
that a test stops, a private FerretDB that a test kills. Never the shared services."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette

from core.settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.processes import free_port

FERRETDB = Path.home() / ".cache/photogram/bin/ferretdb"


def closed_port_url() -> str:
    """A Redis URL nothing listens on (a port just freed)."""
    return f"redis://127.0.0.1:{free_port()}/0"


@asynccontextmanager
async def running(
    settings: Settings,
) -> AsyncIterator[tuple[Starlette, GraphQLClient, httpx.AsyncClient]]:
    from app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield application, GraphQLClient(http), http


@contextmanager
def private_redis() -> Iterator[tuple[str, subprocess.Popen]]:
    """A redis-server of this test's own on a free port; yields (url, process)."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="pg-redis-")
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            workdir,
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc)
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def private_ferretdb() -> Iterator[tuple[str, subprocess.Popen]]:
    """A FerretDB (SQLite) of this test's own on a free port, in a temporary directory."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="pg-ferretdb-"))
    (workdir / "data").mkdir()
    (workdir / "state").mkdir()
    proc = subprocess.Popen(
        [
            str(FERRETDB),
            "--handler=sqlite",
            f"--sqlite-url=file:{workdir}/data/",
            f"--state-dir={workdir}/state",
            f"--listen-addr=127.0.0.1:{port}",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc)
        yield f"mongodb://127.0.0.1:{port}/", proc
    finally:
        stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def _wait_port(port: int, proc: subprocess.Popen, seconds: float = 10) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {seconds} s")
