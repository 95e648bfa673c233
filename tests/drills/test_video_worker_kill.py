"""Drill: the worker is killed (SIGKILL, the worker process alone) while it transcodes a video.
Its transcoder child dies with it (PR_SET_PDEATHSIG), the objects it had already stored (the
poster) are deleted by the retry before it starts again from nothing, and once the post is READY
the bucket holds exactly the post's objects and no scratch folder of the dead worker is left."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx

from core.ids import decode_id
from datastore.stores import open_stores
from media.transcode_process import work_root
from tests.drills.harness import DrillClient, api_server, eventually, record, worker_process
from tests.drills.world import CREATE_POST, UPLOAD_URL, post_of, register
from tests.integration.posts.conftest import bucket_keys, live_post_keys
from tests.support import clips


def _transcoders(parent: int) -> list[int]:
    """Children of `parent` running media.transcode_process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"media.transcode_process" in cmdline:
            found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie waits only for its reaping


async def test_worker_killed_mid_transcode_redoes_it_without_orphans(
    services, drill_settings, log_dir
):
    video = clips.clip(4.0, 1280, 720, 30)
    stores = open_stores(drill_settings)
    with (
        api_server(drill_settings, log_dir) as api,
        worker_process(drill_settings, log_dir) as worker,
    ):
        gql = DrillClient(api.url)
        try:
            alice = await register(gql, "alice")
            ticket = (
                await gql(
                    UPLOAD_URL, {"i": {"contentType": "video/mp4", "size": len(video)}}, alice.token
                )
            ).ok()["createUploadUrl"]
            async with httpx.AsyncClient(timeout=60) as s3:
                headers = {h["name"]: h["value"] for h in ticket["headers"]}
                assert (
                    await s3.put(ticket["url"], content=video, headers=headers)
                ).status_code == 200
            variables = {"i": {"media": [{"uploadId": ticket["uploadId"]}]}}
            post = (await gql(CREATE_POST, variables, alice.token)).ok()["createPost"]["id"]
            prefix = f"posts/{decode_id(post, 'Post')}/"
            assert worker.proc is not None
            worker_pid = worker.proc.pid

            async def transcoding() -> list[int]:
                return _transcoders(worker_pid)

            (child,) = await eventually(transcoding, 60, every=0.05)
            os.kill(worker_pid, signal.SIGKILL)  # the worker alone, not its process group
            worker.proc.wait()
            worker.proc = None

            async def child_gone() -> bool:
                return _gone(child)

            await eventually(child_gone, 10, every=0.05)
            half_made = [k for k in await bucket_keys(stores) if k.startswith(prefix)]
            status_after_kill = (await post_of(gql, post, alice.token))["status"]
            assert status_after_kill == "PROCESSING"
            assert half_made  # the poster went up before the transcode
            # What an attempt under other settings would have left (a rung this one will not
            # make): only a retry that clears the prefix first removes it.
            stray = f"{prefix}0/hls/1080p_007.ts"
            await stores.objects.put(stray, b"\x47" * 188, "video/mp2t")

            worker.start()

            async def ready() -> bool:
                return (await post_of(gql, post, alice.token))["status"] == "READY"

            # saq sweeps the job once its heartbeat (30 s) has stopped, then retries it.
            await eventually(ready, 150)
            keys = await bucket_keys(stores)
            live = await live_post_keys(stores)
            left = [p.name for p in work_root().glob(f"{worker_pid}-*")]
        finally:
            await gql.aclose()
            await stores.close()
    record(
        "video_worker_kill9",
        broke="kill -9 of the worker (not its group) while its child transcoded a 4 s 720p clip",
        **gql.tally.as_dict(),
        status_after_kill=status_after_kill,
        objects_left_by_the_killed_attempt=len(half_made),
    )
    assert stray not in keys
    assert keys == live and any(k.endswith("hls/master.m3u8") for k in keys)
    assert left == []
    assert "INTERNAL" not in gql.tally.errors
