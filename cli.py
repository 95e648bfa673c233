"""`photogram serve | worker | run`: the API server, the worker, or both side by side."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys


def _serve(host: str, port: int, workers: int) -> int:
    import uvicorn

    uvicorn.run(
        "app:create_default_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        ws="websockets-sansio",
    )
    return 0


def _worker() -> int:
    from gateway.event_metrics import install_metrics
    from worker.main import main

    install_metrics()
    main()
    return 0


def _run(host: str, port: int, workers: int) -> int:
    """API and worker together, as `make run` starts them; stopping one stops both."""
    worker = subprocess.Popen([sys.executable, os.path.abspath(__file__), "worker"])
    print(
        f"Photogram API on http://{host}:{port}/graphql (GraphiQL in a browser);"
        f" worker pid {worker.pid}",
        flush=True,
    )
    try:
        return _serve(host, port, workers)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="photogram")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "run"):
        p = sub.add_parser(name)
        p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    sub.add_parser("worker")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.host, args.port, args.workers)
    if args.command == "worker":
        return _worker()
    return _run(args.host, args.port, args.workers)


if __name__ == "__main__":
    sys.exit(main())
