"""Metric hooks that the process's entry point (app.py, cli.py) hands to the lower layers, so
resolvers, the domain and datastore/ report what they do without importing the gateway."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _ignore(*_: object) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Observers:
    # (loader name, keys in the batch): one call per dataloader batch
    batch: Callable[[str, int], None] = _ignore


NO_OBSERVERS = Observers()
