"""A real code generator builds against schema.graphql: @graphql-codegen/cli turns the documents
in web/operations/ into TypeScript (web/codegen.yml) and `tsc --noEmit` checks the output and a
client's use of it (web/protocol/typed-usage.ts). A schema change that removes or retypes what
a document or that client relies on fails here, as it would fail a frontend's build."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.processes import ROOT

WEB = ROOT / "web"


def _npm(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", "run", "--silent", script],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.skipif(shutil.which("npm") is None, reason="Node is not installed")
def test_typescript_generated_from_the_schema_file_type_checks() -> None:
    assert (WEB / "node_modules" / "@graphql-codegen" / "cli").exists(), "run `make web`"
    generated = _npm("codegen")
    assert generated.returncode == 0, (generated.stdout + generated.stderr)[-3000:]
    operations = (WEB / "generated" / "operations.ts").read_text()
    for name in (
        "LoginMutation",
        "FeedPageQuery",
        "LikePostMutation",
        "NotificationAddedSubscription",
        "ProfileQuery",
    ):
        assert f"export type {name} =" in operations
    checked = _npm("typecheck")
    assert checked.returncode == 0, (checked.stdout + checked.stderr)[-3000:]
