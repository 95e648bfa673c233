import json
import shutil
import subprocess
from pathlib import Path

import pytest
from bson import ObjectId

from services.tokens import issue_access_token
from tests.support.processes import ROOT, api_server

pytestmark = pytest.mark.browser


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_graphiql_renders_offline_and_runs_a_query_and_a_subscription(settings, tmp_path: Path):
    token = issue_access_token(settings, ObjectId())
    shot = ROOT / "var" / "graphiql.png"
    shot.parent.mkdir(exist_ok=True)
    with api_server(settings) as base:
        proc = subprocess.run(
            ["node", str(ROOT / "web" / "browser" / "graphiql.mjs"), base, token, str(shot)],
            cwd=ROOT / "web",
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["external"] == []
    assert '"serverTime"' in result["query"]
    assert '"heartbeat"' in result["subscription"]
