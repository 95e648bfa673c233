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


class PrivateRedis:
    """A redis-server of this test's own on a free port, with its data in a temporary
    directory (AOF on, so a stop and start keeps it, as a persistent production Redis would)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="pg-redis-")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.dir,
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, self.proc)

    def stop(self) -> None:
        """SIGTERM: Redis finishes its AOF and exits; clients then get connection refused."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc is not None:
            stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.close()


class PrivateFerretDB:
    """A FerretDB (SQLite) of this test's own on a free port, its data in a temporary directory
    (ops/services.sh start_mongo's flags), so a test can kill -9 it and start it again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"mongodb://127.0.0.1:{self.port}/"
        self.dir = Path(tempfile.mkdtemp(prefix="pg-ferretdb-"))
        (self.dir / "data").mkdir()
        (self.dir / "state").mkdir()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(FERRETDB),
                "--handler=sqlite",
                f"--sqlite-url=file:{self.dir}/data/",
                f"--state-dir={self.dir}/state",
                f"--listen-addr=127.0.0.1:{self.port}",
                "--debug-addr=-",
                "--telemetry=disable",
                "--log-level=error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, self.proc)

    def kill(self) -> None:
        if self.proc is not None:
            stop(self.proc)  # SIGKILL: connections drop mid-command

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def private_ferretdb() -> Iterator[PrivateFerretDB]:
    server = PrivateFerretDB()
    try:
        server.start()
        yield server
    finally:
        server.close()


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
