"""The schema as SDL, the file clients generate code from (`schema.graphql` at the repo root).

`make schema` (`python -m schema.sdl`) writes it; `python -m schema.sdl --check` exits 1 when
the file and the code differ. tests/unit/test_schema_file.py runs the check, so a schema change
lands with its regenerated file, and a reviewer sees the API change in the diff.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"
REGENERATE = "make schema"


def print_sdl() -> str:
    """The SDL of the production schema, descriptions and deprecations included (settings
    choose limits and executors, never types)."""
    from core.settings import Settings
    from schema.root import build_schema

    return str(build_schema(Settings())) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schema.sdl", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--output", type=Path, default=SCHEMA_FILE)
    args = parser.parse_args(argv)
    sdl = print_sdl()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != sdl:
            print(f"{args.output} differs from the code: run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(sdl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
