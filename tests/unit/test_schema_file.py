"""schema.graphql, the SDL clients generate code from, is the code's schema (schema/sdl.py)."""

from __future__ import annotations

import difflib

from schema.sdl import REGENERATE, SCHEMA_FILE, print_sdl


def test_schema_graphql_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
    printed = print_sdl()
    if committed != printed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                printed.splitlines(keepends=True),
                "schema.graphql (committed)",
                "schema printed from the code",
                n=1,
            )
        )
        raise AssertionError(
            f"schema.graphql is stale: run `{REGENERATE}` and commit it.\n{diff[:4000]}"
        )


def test_the_file_keeps_descriptions() -> None:
    assert '"""A new session: tokens and the account they belong to."""' in print_sdl()
