"""The Procfile (docs/deploy.md) under honcho, a real process manager: both processes start, the
API becomes ready and answers a GraphQL request, and a SIGTERM stops everything cleanly."""

import importlib.util
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.processes import ROOT, _env, free_port, wait_ready

pytestmark = pytest.mark.slow

HONCHO = importlib.util.find_spec("honcho")


@pytest.mark.skipif(HONCHO is None, reason="honcho (pyproject's dev extra) is not installed")
def test_honcho_runs_the_procfile_until_ready_and_stops_it_cleanly(settings):
    port = free_port()
    env = _env(settings, None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # honcho itself may live outside the venv (a developer's --target install).
    honcho_root = str(Path(HONCHO.origin).parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), honcho_root])
    proc = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile"), "-p", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base, 60, lambda: f"honcho exited: {proc.stdout.read()[-3000:]}")
        resp = httpx.post(f"{base}/graphql", json={"query": "{ serverTime }"}, timeout=10)
        assert resp.status_code == 200 and resp.json()["data"]["serverTime"], resp.text
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # honcho answers a SIGTERM with 128 + 15 once its processes stopped.
    assert proc.returncode == 128 + signal.SIGTERM, output[-3000:]
    stopped = dict(re.findall(r"(\w+\.1) stopped \(rc=(-?\d+)\)", output))
    # uvicorn re-raises the signal after its graceful shutdown (-15); the worker exits 0.
    assert stopped == {"web.1": "-15", "worker.1": "0"}, output[-3000:]
    # Each stopped on the signal, not killed after honcho's grace period.
    assert "SIGKILL" not in output, output[-3000:]
