"""`photogram serve | worker | run | doctor`: the API server, the worker, both side by side,
or the data check an operator runs after an incident (maintenance/doctor.py)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys


def _serve(host: str, port: int, workers: int) -> int:
    import uvicorn

    from core.settings import get_settings

    uvicorn.run(
        "app:create_default_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        ws="websockets-sansio",
        # permessage-deflate keeps a zlib state per socket (hundreds of KB at zlib's defaults):
        # off by default for 10,000 sockets a process (docs/realtime.md).
        ws_per_message_deflate=get_settings().ws_per_message_deflate,
    )
    return 0


def _worker() -> int:
    from gateway.event_metrics import install_metrics
    from worker.main import main

    install_metrics()
    main()
    return 0


def _doctor(dry_run: bool) -> int:
    """Exit 0 when nothing differed (or everything found was repaired), 1 when a dry run found
    differences, 2 when a repair left some."""
    import asyncio

    from core.settings import get_settings
    from datastore.stores import open_stores
    from maintenance.doctor import run_doctor

    async def go() -> int:
        stores = open_stores(get_settings())
        try:
            report = await run_doctor(stores, repair=not dry_run)
            print("\n".join(report.lines()), flush=True)
            if not report.differences:
                return 0
            if dry_run:
                return 1
            after = await run_doctor(stores, repair=False)
            if after.differences:
                print("after the repair:", "\n".join(after.lines()), sep="\n", flush=True)
                return 2
            return 0
        finally:
            await stores.close()

    return asyncio.run(go())


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
    doctor = sub.add_parser("doctor", help="compare counters and derived indexes with MongoDB")
    doctor.add_argument("--dry-run", action="store_true", help="only report what differs")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return _doctor(args.dry_run)
    if args.command == "serve":
        return _serve(args.host, args.port, args.workers)
    if args.command == "worker":
        return _worker()
    return _run(args.host, args.port, args.workers)


if __name__ == "__main__":
    sys.exit(main())
