"""The README's "Try it", in a browser: `photogram demo` (small), the server, then GraphiQL's
default document run as its comments say (Login, the token in the Headers tab, Feed). The
screenshot it takes is the README's (var/try-it.png; docs/img/graphiql-feed.png is a copy)."""

import json
import shutil
import subprocess
import sys

import pytest

from demo.world import DEMO_LOGIN
from tests.support.processes import ROOT, _env, api_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_try_it_logs_in_and_reads_the_demo_feed_in_graphiql(settings):
    demo = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "demo", "--size", "small"],
        env=_env(settings, None),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    shot = ROOT / "var" / "try-it.png"
    shot.parent.mkdir(exist_ok=True)
    with api_server(settings) as base:
        proc = subprocess.run(
            ["node", str(ROOT / "web" / "browser" / "try_it.mjs"), base, str(shot)],
            cwd=ROOT / "web",
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["external"] == []
    assert "Welcome to GraphiQL" not in result["document"]
    assert f'"{DEMO_LOGIN}"' in result["login"]
    feed = json.loads(result["feed"])
    assert "errors" not in feed, feed
    posts = feed["data"]["feed"]["nodes"]
    assert posts and all(p["media"] for p in posts)
    assert shot.stat().st_size > 10_000
