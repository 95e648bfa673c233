"""The `video` section: upload-to-READY of a 10 s and a 60 s 1080p30 video (transcoded into the
ladder, HLS and preview on the video queue), and the photo path's upload-to-READY alone and with
two videos being transcoded beside it.

    .venv/bin/python bench/video_ready.py [--long-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.media_ready import one
from bench.procs import worker_process
from tests.support import samples
from tests.support.factories import create_user
from tests.support.isolation import drop_everything, isolated_settings

PHOTO_RUNS = 5


async def _photos(api, app, token: str, photo: bytes) -> list[float]:
    return [(await one(api, app, token, photo, "image/jpeg"))["total"] for _ in range(PHOTO_RUNS)]


async def main(long_seconds: float = 60.0) -> dict:
    from app import create_app

    limit = 500 * 1024 * 1024
    settings = isolated_settings(
        rate_limit_post="1000/hour", max_upload_bytes=limit, max_video_seconds=max(90, long_seconds)
    )
    photo = samples.noisy_jpeg(2000, 1500)
    print("building inputs...", flush=True)
    short = samples.mp4(seconds=10.0, width=1920, height=1080, fps=30, noise=True)
    long = samples.mp4(seconds=long_seconds, width=1920, height=1080, fps=30, noise=True)
    out: dict = {}
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            _, token = await create_user(app.state.stores, "bench")
            transport = httpx.ASGITransport(app=app)
            async with (
                httpx.AsyncClient(
                    transport=transport, base_url="http://bench", timeout=3600
                ) as api,
            ):
                # Its log goes to a file: an unread stderr pipe fills in a long run and stalls it.
                with worker_process(settings):
                    await one(api, app, token, samples.photo(64, 64), "image/jpeg")  # warm-up
                    for name, data in (("10s_1080p", short), (f"{long_seconds:g}s_1080p", long)):
                        r = await one(api, app, token, data, "video/mp4")
                        out[name] = {k: round(v, 2) for k, v in r.items()}
                        print(f"{name}: upload-to-READY {r['total']:.1f} s", flush=True)
                    alone = await _photos(api, app, token, photo)
                    busy = asyncio.gather(
                        one(api, app, token, short, "video/mp4"),
                        one(api, app, token, short, "video/mp4"),
                    )
                    await asyncio.sleep(2.0)  # the first transcode has started
                    beside = await _photos(api, app, token, photo)
                    await busy
                    out["photo_3MP_alone_s"] = round(statistics.median(alone), 3)
                    out["photo_3MP_beside_2_videos_s"] = round(statistics.median(beside), 3)
                    print(
                        f"3 MP photo upload-to-READY: alone {out['photo_3MP_alone_s']:.2f} s, "
                        f"beside two transcodes {out['photo_3MP_beside_2_videos_s']:.2f} s",
                        flush=True,
                    )
    finally:
        await drop_everything(settings)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--long-seconds", type=float, default=60.0)
    asyncio.run(main(parser.parse_args().long_seconds))
