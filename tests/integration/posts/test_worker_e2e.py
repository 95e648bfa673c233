"""End to end through a real worker process: upload, createPost, the worker renders, READY."""

import io

import httpx
from PIL import Image
from saq.job import Status

from core.ids import decode_id
from services.process_post_media import job_key, transcode_job_key
from tests.integration.posts.conftest import (
    GET_POST,
    bucket_keys,
    create_post,
    live_post_keys,
    upload,
)
from tests.support import samples
from tests.support.processes import worker_process
from worker.queue import make_video_queue


async def test_photo_and_video_post_processed_by_the_worker(settings, app, gql, stores, alice, bob):
    _, token = alice
    _, bob_token = bob
    photo = samples.photo(1200, 900, orientation=6, gps=True)
    ids = [
        await upload(gql, token, photo, "image/jpeg"),
        await upload(gql, token, samples.mp4(seconds=2.0, width=640, height=360), "video/mp4"),
    ]
    with worker_process(settings):
        created = (await create_post(gql, token, ids, caption="#e2e @bob")).ok()["createPost"]
        assert created["status"] == "PROCESSING"
        post_oid = decode_id(created["id"], "Post")
        job = await app.state.queue.job(job_key(post_oid))
        assert job is not None
        # saq notifies completion; no sleeping.
        await job.refresh(until_complete=90)
        assert job.status == Status.COMPLETE, job.error
        # A post with a video is handed to the video queue, which makes it READY.
        assert job.result == "transcoding"
        video_queue = make_video_queue(settings)
        try:
            transcode = await video_queue.job(transcode_job_key(post_oid))
            assert transcode is not None
            await transcode.refresh(until_complete=90)
            assert transcode.status == Status.COMPLETE, transcode.error
            assert transcode.result == "ready"
        finally:
            await video_queue.disconnect()

    post = (await gql(GET_POST, {"id": created["id"]}, token=bob_token)).ok()["post"]
    assert post["status"] == "READY"
    assert post["author"]["postCount"] == 1
    photo_media, video_media = post["media"]
    assert (photo_media["width"], photo_media["height"]) == (900, 1200)
    async with httpx.AsyncClient() as client:
        data = (await client.get(photo_media["url"])).content
        poster = (await client.get(video_media["posterUrl"])).content
        video = (await client.get(video_media["url"])).content
    im = Image.open(io.BytesIO(data))
    assert im.height > im.width and not im.getexif()
    assert Image.open(io.BytesIO(poster)).size == (640, 360)
    assert video[4:8] == b"ftyp" and b"loci" not in video
    assert 1.8 < video_media["durationSeconds"] < 2.2
    assert await bucket_keys(stores) == await live_post_keys(stores)
