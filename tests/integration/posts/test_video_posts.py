"""A video post through GraphQL against the real services: the renditions, HLS (through the
API's signed playlists), preview and poster all fetch and decode; deleting the post leaves
nothing of it in the bucket; createPost refuses a video over the limits."""

from __future__ import annotations

import io
from urllib.parse import urljoin, urlsplit

import av
import httpx
import pytest

from core.ids import decode_id
from media.hls import parse_master_playlist, parse_media_playlist
from tests.integration.posts.conftest import (
    bucket_keys,
    create_post,
    live_post_keys,
    process,
    upload,
)
from tests.support import clips

VIDEO_FIELDS = """
query($id: ID!) { post(id: $id) { status media {
  type width height durationMs durationSeconds url hlsUrl posterUrl previewUrl
  renditions { url width height bitrate mimeType contentType }
} } }"""
DELETE = "mutation($id: ID!) { deletePost(id: $id) }"


async def _get(http: httpx.AsyncClient, s3: httpx.AsyncClient, url: str) -> httpx.Response:
    """The API's own URLs go through the in-process app, the bucket's to MinIO."""
    parts = urlsplit(url)
    if parts.path.startswith("/media/hls/"):
        return await http.get(f"{parts.path}?{parts.query}")
    return await s3.get(url)


def _decode(data: bytes) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data)) as c:
        return list(c.decode(video=0))


async def test_video_post_renditions_hls_and_delete(gql, http, app, stores, alice):
    _, token = alice
    upload_id = await upload(gql, token, clips.clip(1.0, 1280, 720, 10), "video/mp4")
    created = (await create_post(gql, token, [upload_id])).ok()["createPost"]
    assert created["status"] == "PROCESSING"
    assert await process(app, created["id"]) == "ready"
    post = (await gql(VIDEO_FIELDS, {"id": created["id"]}, token=token)).ok()["post"]
    assert post["status"] == "READY"
    (media,) = post["media"]
    assert (media["type"], media["width"], media["height"]) == ("VIDEO", 1280, 720)
    assert media["durationMs"] == pytest.approx(1000, abs=100)
    sizes = [(r["width"], r["height"]) for r in media["renditions"]]
    assert sizes == [(640, 360), (1280, 720)]
    async with httpx.AsyncClient() as s3:
        for r in media["renditions"]:
            assert r["mimeType"] == r["contentType"] == "video/mp4" and r["bitrate"] > 0
            resp = await _get(http, s3, r["url"])
            assert resp.status_code == 200
            assert {(f.width, f.height) for f in _decode(resp.content)} == {
                (r["width"], r["height"])
            }
        assert (await _get(http, s3, media["url"])).content[4:8] == b"ftyp"
        preview = (await _get(http, s3, media["previewUrl"])).content
        assert len(_decode(preview)) == 10  # the whole 1 s clip is under the 3 s preview
        assert (await _get(http, s3, media["posterUrl"])).status_code == 200

        # HLS: the master, each media playlist and every segment, as a player fetches them.
        master_resp = await _get(http, s3, media["hlsUrl"])
        assert master_resp.status_code == 200
        assert master_resp.headers["content-type"].startswith("application/vnd.apple.mpegurl")
        variants = parse_master_playlist(master_resp.text)
        assert [v.resolution for v in variants] == sizes
        for variant in variants:
            media_url = urljoin(media["hlsUrl"], variant.uri)
            playlist = parse_media_playlist((await _get(http, s3, media_url)).text)
            assert playlist.endlist and playlist.duration == pytest.approx(1.0, abs=0.1)
            frames = 0
            for segment in playlist.segments:
                resp = await _get(http, s3, urljoin(media_url, segment.uri))
                assert resp.status_code == 200
                frames += len(_decode(resp.content))
            assert frames == 10

        # A forged or stripped signature is refused.
        path = urlsplit(media["hlsUrl"]).path
        assert (await http.get(path)).status_code == 403
        assert (await http.get(f"{path}?e=9999999999&s=00")).status_code == 403

    assert await bucket_keys(stores) == await live_post_keys(stores)
    assert len(await bucket_keys(stores)) > 10
    (await gql(DELETE, {"id": created["id"]}, token=token)).ok()
    assert await bucket_keys(stores) == [] == await live_post_keys(stores)
    # The playlist of a deleted post is gone, not an error.
    assert (await _get(http, None, media["hlsUrl"])).status_code == 404  # type: ignore[arg-type]


async def test_deleted_while_transcoding_leaves_nothing(gql, app, stores, alice):
    """deletePost between the handover and the transcode: the job skips, nothing stays."""
    _, token = alice
    upload_id = await upload(gql, token, clips.clip(0.5, 320, 240, 10), "video/mp4")
    created = (await create_post(gql, token, [upload_id])).ok()["createPost"]
    (await gql(DELETE, {"id": created["id"]}, token=token)).ok()
    assert await process(app, created["id"]) == "skipped"
    assert await bucket_keys(stores) == []
    assert await stores.db.posts.count_documents({"_id": decode_id(created["id"], "Post")}) == 0


async def test_create_post_refuses_a_video_over_the_pixel_limit(gql, settings, stores, alice):
    settings.max_video_pixels = 320 * 240
    _, token = alice
    upload_id = await upload(gql, token, clips.clip(0.3, 640, 360, 10), "video/mp4")
    resp = await create_post(gql, token, [upload_id])
    assert resp.codes == ["BAD_USER_INPUT"], resp.errors
    assert "the limit is 76800 pixels" in resp.errors[0]["message"]
    assert await stores.db.posts.count_documents({}) == 0
    assert await bucket_keys(stores) == []
