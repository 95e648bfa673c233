"""Transcodes run on their own queue: with the default queue two jobs wide, a burst of three
videos still leaves a photo posted after them to be rendered at once, while they wait their
turn (one at a time) on the video queue. Without the handover the videos would fill both
default slots and the photo would wait behind them."""

from __future__ import annotations

import asyncio

from core.ids import decode_id
from datastore import posts
from tests.integration.posts.conftest import create_post, upload
from tests.support import clips, samples
from tests.support.processes import worker_process


async def _status(stores, gid: str) -> str:
    doc = await posts.find_post(stores, decode_id(gid, "Post"), projection={"status": 1})
    return doc["status"]


async def test_a_burst_of_videos_does_not_delay_a_photo(settings, gql, stores, alice):
    _, token = alice
    video = clips.clip(2.0, 1280, 720, 24)
    uploads = [await upload(gql, token, video, "video/mp4") for _ in range(3)]
    photo = await upload(gql, token, samples.photo(800, 600), "image/jpeg")
    env = {"WORKER_CONCURRENCY": "2", "VIDEO_WORKER_CONCURRENCY": "1"}
    with worker_process(settings, env):
        videos = [(await create_post(gql, token, [u])).ok()["createPost"]["id"] for u in uploads]
        photo_post = (await create_post(gql, token, [photo])).ok()["createPost"]["id"]
        for _ in range(600):  # the photo is READY within seconds, or the test fails
            if await _status(stores, photo_post) == "READY":
                break
            await asyncio.sleep(0.05)
        waiting = [await _status(stores, v) for v in videos]
        assert await _status(stores, photo_post) == "READY"
        # At most one video was transcoded in the photo's time: the others still wait.
        assert waiting.count("PROCESSING") >= 2, waiting
    # (That they then end READY, one at a time: test_worker_e2e.py.)
