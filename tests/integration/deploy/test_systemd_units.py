"""ops/systemd/*.service pass `systemd-analyze verify` with no complaint (an unknown key is only a
warning there, so any output fails the test). The units name the install path of docs/deploy.md
(/opt/photogram); verify checks that ExecStart exists, so it is pointed at this venv's script."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT

UNITS = sorted((ROOT / "ops" / "systemd").glob("*.service"))
INSTALLED = "/opt/photogram/.venv/bin/photogram"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is absent (Debian: apt-get install systemd)",
)
def test_systemd_units_verify_cleanly(tmp_path: Path):
    assert {u.name for u in UNITS} == {"photogram-api.service", "photogram-worker@.service"}
    script = Path(sys.executable).parent / "photogram"
    assert script.exists(), "the venv has no `photogram` script: pip install -e ."
    copies = []
    for unit in UNITS:
        text = unit.read_text()
        assert INSTALLED in text
        copy = tmp_path / unit.name
        copy.write_text(text.replace(INSTALLED, str(script)))
        copies.append(str(copy))
    proc = subprocess.run(
        ["systemd-analyze", "verify", *copies], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and not (proc.stdout + proc.stderr).strip(), (
        proc.stdout + proc.stderr
    )
