"""Upload-to-READY time of the media pipeline on this machine.

Runs against the local services in a throw-away namespace: an in-process API, a real worker
process, a 12-megapixel JPEG and a 10-second 1080p H.264 MP4 built here. For each file it times
the presigned PUT, createPost (the synchronous checks) and the worker's rendering until READY.

    .venv/bin/python bench/media_ready.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.ids import decode_id
from services.process_post_media import job_key, transcode_job_key
from tests.integration.posts.conftest import CREATE_UPLOAD_URL
from tests.support import samples
from tests.support.factories import create_user
from tests.support.isolation import drop_everything, isolated_settings
from tests.support.processes import worker_process
from worker.queue import make_video_queue

CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) { id status } }"""


async def _completed(job, seconds: float, step: float = 0.5) -> None:
    """Wait for the job to end. saq's `refresh(until_complete=t)` reads the status, then
    subscribes: a job ending in between is never heard of and the wait runs its whole `t` (two
    videos posted at once hit that on the handover job). So wait in short steps, each of which
    reads the status again."""
    deadline = time.perf_counter() + seconds
    while True:
        await job.refresh(until_complete=step)
        if job.completed:
            return
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{job.key} still {job.status} after {seconds} s")


async def one(api: httpx.AsyncClient, app, token: str, data: bytes, content_type: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    ticket = (
        await api.post(
            "/graphql",
            json={
                "query": CREATE_UPLOAD_URL,
                "variables": {"input": {"contentType": content_type, "size": len(data)}},
            },
            headers=headers,
        )
    ).json()["data"]["createUploadUrl"]
    async with httpx.AsyncClient(timeout=120) as s3:
        put = await s3.put(ticket["url"], content=data, headers={"Content-Type": content_type})
        put.raise_for_status()
    t1 = time.perf_counter()
    body = (
        await api.post(
            "/graphql",
            json={
                "query": CREATE,
                "variables": {"input": {"media": [{"uploadId": ticket["uploadId"]}]}},
            },
            headers=headers,
        )
    ).json()
    assert "errors" not in body, body
    t2 = time.perf_counter()
    post_id = decode_id(body["data"]["createPost"]["id"], "Post")
    job = await app.state.queue.job(job_key(post_id))
    await _completed(job, 300)
    if job.result == "transcoding":  # a video: READY comes from the video queue's job
        video_queue = make_video_queue(app.state.settings)
        try:
            job = await video_queue.job(transcode_job_key(post_id))
            await _completed(job, 1800)
        finally:
            await video_queue.disconnect()
    t3 = time.perf_counter()
    assert job.result == "ready", (job.status, job.error)
    return {"put": t1 - t0, "create": t2 - t1, "render": t3 - t2, "total": t3 - t0}


async def main(runs: int) -> dict:
    """Median seconds per phase for each file, also printed."""
    out: dict = {}
    from app import create_app

    settings = isolated_settings(rate_limit_post="1000/hour", max_upload_bytes=200 * 1024 * 1024)
    print("building inputs...", flush=True)
    t = time.perf_counter()
    jpeg = samples.noisy_jpeg(4000, 3000)
    print(f"  12 MP JPEG: {len(jpeg) / 1e6:.1f} MB ({time.perf_counter() - t:.1f} s)", flush=True)
    t = time.perf_counter()
    mp4 = samples.mp4(seconds=10.0, width=1920, height=1080, fps=30, noise=True)
    print(
        f"  10 s 1080p30 MP4: {len(mp4) / 1e6:.1f} MB ({time.perf_counter() - t:.1f} s)", flush=True
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            _, token = await create_user(app.state.stores, "bench")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=300
            ) as api:
                with worker_process(settings, {"MAX_UPLOAD_BYTES": str(200 * 1024 * 1024)}):
                    # Warm-up: the worker's first job pays its imports and connections.
                    await one(api, app, token, samples.photo(64, 64), "image/jpeg")
                    for name, data, ctype in (
                        ("12MP JPEG", jpeg, "image/jpeg"),
                        ("10s 1080p MP4", mp4, "video/mp4"),
                    ):
                        rows = [await one(api, app, token, data, ctype) for _ in range(runs)]
                        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
                        out[name] = {
                            "runs": runs,
                            "median_s": {k: round(v, 3) for k, v in med.items()},
                            "totals_s": [round(r["total"], 3) for r in rows],
                        }
                        print(
                            f"{name}: median of {runs}: PUT {med['put']:.2f} s, createPost "
                            f"{med['create']:.2f} s, worker to READY {med['render']:.2f} s, "
                            f"upload-to-READY {med['total']:.2f} s "
                            "(all: " + ", ".join(f"{r['total']:.2f}" for r in rows) + ")",
                            flush=True,
                        )
    finally:
        await drop_everything(settings)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args().runs))
