"""Multipart uploads and their CSRF rule, failed processing, the upload sweeper, avatars."""

from datetime import UTC, datetime, timedelta

from tests.integration.posts.conftest import (
    CREATE_POST,
    GET_POST,
    bucket_keys,
    create_post,
    live_post_keys,
    multipart,
    process,
    upload,
)
from tests.support import samples

SET_AVATAR = """mutation($input: MediaInput!) { setAvatar(input: $input) {
  avatar { width height blurhash url(width: 200) renditions { width height contentType } } } }"""


async def test_multipart_create_post_with_preflight_header(http, gql, app, stores, alice):
    _, token = alice
    variables = {"input": {"media": [{"file": None}, {"file": None}], "caption": "#multi"}}
    files = {
        "input.media.0.file": ("a.jpg", samples.photo(500, 400, gps=True), "image/jpeg"),
        "input.media.1.file": (
            "b.bin",
            samples.photo(300, 300, fmt="PNG"),
            "application/octet-stream",
        ),
    }
    resp = await multipart(http, CREATE_POST, variables, files, token=token)
    assert resp.status_code == 200, resp.text
    post = resp.json()["data"]["createPost"]
    assert post["status"] == "PROCESSING"
    assert [(m["width"], m["height"]) for m in post["media"]] == [(500, 400), (300, 300)]
    assert await process(app, post["id"]) == "ready"
    ready = (await gql(GET_POST, {"id": post["id"]}, token=token)).ok()["post"]
    assert ready["status"] == "READY"
    assert await bucket_keys(stores) == await live_post_keys(stores)
    assert await stores.db.uploads.count_documents({}) == 0


async def test_multipart_without_preflight_header_is_refused(http, stores, alice):
    _, token = alice
    variables = {"input": {"media": [{"file": None}]}}
    files = {"input.media.0.file": ("a.jpg", samples.photo(64, 64), "image/jpeg")}
    resp = await multipart(http, CREATE_POST, variables, files, token=token, preflight=False)
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["extensions"]["code"] == "CSRF_PREVENTED"
    assert await stores.db.posts.count_documents({}) == 0
    # The operation-name header is accepted as well (Apollo's rule).
    headers_ok = await http.post(
        "/graphql",
        data={"operations": '{"query": "{ serverTime }"}', "map": "{}"},
        files={"unused": ("x", b"x")},
        headers={"X-Apollo-Operation-Name": "T"},
    )
    assert headers_ok.status_code == 200, headers_ok.text


async def test_failed_processing_sets_failed_and_leaves_no_objects(gql, app, stores, alice):
    alice_id, token = alice
    ids = [
        await upload(gql, token, samples.photo(700, 500), "image/jpeg"),
        await upload(gql, token, samples.photo(600, 600), "image/jpeg"),
    ]
    post = (await create_post(gql, token, ids, caption="#broken")).ok()["createPost"]
    # The second original changes after createPost checked it (storage corruption, say).
    doc = await stores.db.posts.find_one({})
    await stores.objects.put(doc["media"][1]["upload_key"], b"\xff\xd8\xff garbage", "image/jpeg")
    assert await process(app, post["id"]) == "failed"
    failed = (await gql(GET_POST, {"id": post["id"]}, token=token)).ok()["post"]
    assert failed["status"] == "FAILED"
    assert "JPEG" in failed["failureReason"]
    assert await bucket_keys(stores) == []  # item 0's renditions were written, then removed
    assert await stores.db.uploads.count_documents({}) == 0
    assert (await stores.db.users.find_one({"_id": alice_id}))["post_count"] == 0
    assert await stores.db.hashtags.count_documents({"post_count": {"$gt": 0}}) == 0


async def test_sweeper_removes_expired_and_stray_uploads_only(gql, app, stores, alice):
    from worker.posts_jobs import sweep_uploads

    _, token = alice
    pending = await upload(gql, token, samples.photo(64, 64), "image/jpeg")
    attached = await upload(gql, token, samples.photo(64, 64), "image/jpeg")
    post = (await create_post(gql, token, [attached])).ok()["createPost"]
    await stores.objects.put("uploads/nobody/stray", b"x", "application/octet-stream")
    ctx = {"stores": stores, "queue": app.state.queue}

    now_counts = await sweep_uploads(ctx, now=datetime.now(UTC).isoformat())
    assert now_counts == {"expired": 0, "orphaned": 0, "strays": 1, "restarted": 0}
    assert await stores.db.uploads.count_documents({}) == 2

    later = datetime.now(UTC) + timedelta(seconds=app.state.settings.upload_url_ttl_seconds + 600)
    counts = await sweep_uploads(ctx, now=later.isoformat())
    assert counts["expired"] == 1
    # The post has been PROCESSING "for 25 minutes": its job is enqueued again (idempotently).
    assert counts["restarted"] == 1
    left = [d async for d in stores.db.uploads.find({})]
    assert [d["status"] for d in left] == ["ATTACHED"]
    assert await bucket_keys(stores) == [left[0]["key"]]
    assert pending not in str(left)
    # The attached original is still processed normally.
    assert await process(app, post["id"]) == "ready"
    assert await bucket_keys(stores) == await live_post_keys(stores)


async def test_avatar_through_the_pipeline(gql, http, stores, alice):
    alice_id, token = alice
    up = await upload(gql, token, samples.photo(900, 600, gps=True, orientation=6), "image/jpeg")
    user = (await gql(SET_AVATAR, {"input": {"uploadId": up}}, token=token)).ok()["setAvatar"]
    avatar = user["avatar"]
    assert avatar["width"] == avatar["height"] == 600
    assert {(r["width"], r["height"]) for r in avatar["renditions"]} == {
        (150, 150),
        (320, 320),
        (600, 600),
    }
    first_keys = await bucket_keys(stores)
    assert all(k.startswith(f"avatars/{alice_id}/") for k in first_keys)

    # Replacing it (multipart this time) deletes the old renditions.
    files = {"input.file": ("me.png", samples.photo(200, 300, fmt="PNG"), "image/png")}
    resp = await multipart(http, SET_AVATAR, {"input": {"file": None}}, files, token=token)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["setAvatar"]["avatar"]["width"] == 200
    keys = await bucket_keys(stores)
    assert keys == await live_post_keys(stores) and not set(keys) & set(first_keys)

    # A video is not an avatar; the refused upload is deleted, the avatar stays.
    video = await upload(gql, token, samples.mp4(), "video/mp4")
    refused = await gql(SET_AVATAR, {"input": {"uploadId": video}}, token=token)
    assert refused.codes == ["BAD_USER_INPUT"]
    assert await bucket_keys(stores) == keys
    assert await stores.db.uploads.count_documents({}) == 0

    viewer = await gql("{ viewer { avatar { width } } }", token=token)
    assert viewer.ok()["viewer"]["avatar"] == {"width": 200}
    removed = (await gql(SET_AVATAR, {"input": {}}, token=token)).ok()["setAvatar"]
    assert removed["avatar"] is None
    assert await bucket_keys(stores) == []


async def test_update_profile_sets_and_removes_the_avatar(gql, stores, alice):
    _, token = alice
    update = """mutation($input: UpdateProfileInput!) {
      updateProfile(input: $input) { bio avatar { width height } } }"""
    up = await upload(gql, token, samples.photo(500, 400), "image/jpeg")
    user = await gql(update, {"input": {"bio": "hi", "avatar": {"uploadId": up}}}, token=token)
    assert user.ok()["updateProfile"] == {"bio": "hi", "avatar": {"width": 400, "height": 400}}
    assert await bucket_keys(stores)
    gone = await gql(update, {"input": {"avatar": None}}, token=token)
    assert gone.ok()["updateProfile"] == {"bio": "hi", "avatar": None}
    assert await bucket_keys(stores) == []
