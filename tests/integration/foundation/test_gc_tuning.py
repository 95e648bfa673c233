"""app.tune_gc: the API process's collector settings (why: app.py)."""

from __future__ import annotations

import gc

from app import tune_gc
from tests.support.isolation import isolated_settings


def test_an_api_process_freezes_its_startup_objects_and_collects_less_often() -> None:
    before = gc.get_threshold()
    try:
        tune_gc(isolated_settings(env="dev", gc_gen0_threshold=12_345))
        assert gc.get_threshold() == (12_345, before[1], before[2])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_tests_and_a_zero_threshold_keep_cpythons_defaults() -> None:
    before = gc.get_threshold()
    tune_gc(isolated_settings(gc_gen0_threshold=12_345))  # ENV=test
    tune_gc(isolated_settings(env="dev", gc_gen0_threshold=0))
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
