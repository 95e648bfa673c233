"""Fault drills: one private FerretDB + Redis for the session, each drill its own namespace on
them and its own API and worker processes. `-m drill` selects them; they run in the FerretDB
lane of `make test` (they start FerretDB themselves, so the mongodb lane skips them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from tests.drills.harness import PrivateServices
from tests.support.isolation import drop_everything, isolated_settings


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    mongodb_lane = isolated_settings().mongo_flavor != "ferretdb"
    skip = pytest.mark.skip(reason="fault drills run their own FerretDB: FerretDB lane only")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.drill)
            if mongodb_lane:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateServices]:
    private = PrivateServices(tmp_path_factory.mktemp("drill-services"))
    private.start()
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture
async def drill_settings(services: PrivateServices) -> AsyncIterator[Settings]:
    settings = services.settings()
    yield settings
    services.start()  # a drill that broke a service has restarted it; make sure, then clean up
    await drop_everything(settings)


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "log"
