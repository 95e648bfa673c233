"""`photogram serve | worker | run | doctor | demo`: the API server, the worker, both side by
side, the data check an operator runs after an incident (maintenance/doctor.py), or the demo
world for a first look (demo/)."""

from __future__ import annotations

import argparse
import logging
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


def _demo(size: str, seed: int) -> int:
    """Exit 0 when the demo world was made or was already there, 1 when an interrupted run
    left part of one."""
    import asyncio

    from core.logging import configure_logging
    from core.settings import get_settings
    from demo.load import DemoError, load_demo
    from demo.progress import Progress
    from demo.world import DemoSize

    settings = get_settings()
    configure_logging("WARNING")
    # saq warns on every stop of the demo's in-process worker (no grace period is set).
    logging.getLogger("saq").setLevel(logging.ERROR)
    progress = Progress()
    try:
        result = asyncio.run(
            load_demo(settings, DemoSize.named(size), seed=seed, progress=progress)
        )
    except DemoError as exc:
        print(f"photogram demo: {exc}", file=sys.stderr)
        return 1
    finally:
        progress.close()
    if result.created:
        print(
            f"Demo world made in {result.seconds:.0f} s: {result.users} users, {result.posts}"
            f" posts in database {settings.mongodb_db!r} (celebrity threshold"
            f" {result.celebrity_threshold} followers for the demo's fan-out)."
        )
    else:
        print(f"The demo world is already in database {settings.mongodb_db!r}; nothing added.")
    print(
        f"Try it: open http://127.0.0.1:8000/graphql (`make run`) and log in as"
        f" {result.login!r} with password {result.password!r} (GraphiQL's first operation).",
        flush=True,
    )
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
    doctor = sub.add_parser("doctor", help="compare counters and derived indexes with MongoDB")
    doctor.add_argument("--dry-run", action="store_true", help="only report what differs")
    demo = sub.add_parser("demo", help="fill the database with a small generated world")
    demo.add_argument("--size", choices=("standard", "small"), default="standard")
    demo.add_argument("--seed", type=int, default=16, help="another seed, another world")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args.size, args.seed)
    if args.command == "doctor":
        return _doctor(args.dry_run)
    if args.command == "serve":
        return _serve(args.host, args.port, args.workers)
    if args.command == "worker":
        return _worker()
    return _run(args.host, args.port, args.workers)


if __name__ == "__main__":
    sys.exit(main())
