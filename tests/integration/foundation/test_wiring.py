"""Wiring that needs no services: cursors follow the settings they are given, jobs are enqueued
by handle only, events are named from one list, and importing the app builds nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import SecretStr

from core.cursor import cursor_codec
from core.errors import BadInput
from core.events import EVENTS, on
from tests.support.isolation import isolated_settings
from worker import jobs
from worker.queue import enqueue
from worker.registry import load_all


def test_cursors_are_signed_and_limited_by_the_settings_given():
    a = cursor_codec(isolated_settings(jwt_secret=SecretStr("a" * 40), max_page_size=7))
    b = cursor_codec(isolated_settings(jwt_secret=SecretStr("b" * 40), default_page_size=3))
    cursor = a.encode("followers", [1, "x"])
    assert a.decode("followers", cursor) == [1, "x"]
    with pytest.raises(BadInput):
        b.decode("followers", cursor)  # another key: refused, not trusted
    assert b.clamp_first(None) == 3
    with pytest.raises(BadInput):
        a.clamp_first(8)


async def test_jobs_are_enqueued_by_handle_only():
    with pytest.raises(TypeError):
        await enqueue(None, "fan_out_pots")  # type: ignore[arg-type]
    assert set(load_all()) == {h.name for h in jobs.ALL}


def test_an_unknown_event_is_refused():
    assert "user.followed" in EVENTS
    with pytest.raises(ValueError):
        on("user.folowed")


def test_importing_the_app_builds_nothing():
    code = "import app, sys; assert not hasattr(app, 'app'); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
