"""Running `media.transcode` in a child process.

A transcode is seconds to minutes of CPU. In a child it holds no GIL of the worker's (whose event
loop keeps heartbeating jobs and running photo and fan-out jobs), it runs niced so those win the
CPU on a busy machine, and it dies with the worker: a worker killed with SIGKILL takes its
transcode down too (PR_SET_PDEATHSIG), and the job's retry starts again from nothing.

    python -m media.transcode_process SRC OUT_DIR NICE   # prints the result as JSON
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from core.errors import BadInput
from media.transcode import Output, Transcoded, transcode

ROOT = Path(__file__).resolve().parents[1]
# The child's exit status for a file that cannot be transcoded (as opposed to a crash).
EXIT_BAD_INPUT = 3


def work_root() -> Path:
    return Path(tempfile.gettempdir()) / "photogram-transcode"


@contextlib.contextmanager
def work_dir() -> Iterator[str]:
    """A scratch folder named for this process: a worker killed mid-transcode leaves its
    folder behind, and the next transcode on this machine (`sweep_work_dirs`) removes it."""
    root = work_root()
    root.mkdir(exist_ok=True)
    sweep_work_dirs(root)
    path = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_work_dirs(root: Path) -> list[str]:
    """Remove the scratch folders of processes that no longer exist."""
    removed = []
    for entry in root.iterdir() if root.is_dir() else ():
        pid = entry.name.split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class TranscodeFailed(RuntimeError):
    """The child crashed or was killed: transient, the job is retried."""


async def transcode_in_child(
    src_path: str, out_dir: str, *, nice: int = 10, limit_seconds: float | None = None
) -> Transcoded:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "media.transcode_process",
        src_path,
        out_dir,
        str(nice),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(limit_seconds):
            out, err = await proc.communicate()
    except BaseException:
        # Cancelled (job timeout or abort) or timed out: the child must not outlive the job.
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode == EXIT_BAD_INPUT:
        raise BadInput(err.decode(errors="replace").strip().splitlines()[-1])
    if proc.returncode != 0:
        tail = err.decode(errors="replace")[-2000:]
        raise TranscodeFailed(f"transcoder exited with {proc.returncode}: {tail}")
    raw = json.loads(out)
    return Transcoded(
        duration_ms=raw["duration_ms"],
        renditions=[Output(**r) for r in raw["renditions"]],
        preview=Output(**raw["preview"]),
        hls_dir=raw["hls_dir"],
        hls_files=raw["hls_files"],
    )


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def main(argv: list[str]) -> int:
    import av

    src, out_dir, nice = argv[0], argv[1], int(argv[2])
    _die_with_parent()
    os.nice(nice)
    try:
        result = transcode(src, out_dir)
    except (av.FFmpegError, ValueError, EOFError) as exc:
        print(f"The video cannot be transcoded (corrupt or truncated): {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    json.dump(dataclasses.asdict(result), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
