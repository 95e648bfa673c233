"""The compiled executor (gateway/compiled) reaches into graphql-core's Executor internals
(`collect_fields`/`collect_subfields`, `handle_field_error`, `complete_leaf_value`,
`collected_errors`, `settle_in_background`, ...) and Strawberry's (the schema converter's
resolver wrapping, `StrawberryField.base_resolver`, `convert_arguments`, `Info`). It was verified
byte for byte against these exact versions; any other version must be verified again."""

from __future__ import annotations

from importlib.metadata import version

import pytest

PINNED = {"strawberry-graphql": "0.341.2", "graphql-core": "3.3.2"}


@pytest.mark.parametrize("package", sorted(PINNED))
def test_compiled_executor_dependencies_are_the_verified_versions(package: str) -> None:
    installed = version(package)
    assert installed == PINNED[package], (
        f"{package} is {installed}, but the compiled GraphQL executor (gateway/compiled) was "
        f"verified against {package}=={PINNED[package]} only: it reaches into the internals "
        "of graphql-core and Strawberry, so a new version must be re-verified with "
        "tests/unit/test_executor_differential.py and test_executor_real_schema.py (and "
        "gateway/compiled adapted) before this pin is moved; or run with "
        "GRAPHQL_EXECUTOR=standard."
    )
