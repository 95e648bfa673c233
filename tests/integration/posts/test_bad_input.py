"""Every kind of bad input is BAD_USER_INPUT and leaves nothing behind: no post, no upload
record, no object (a refused upload is deleted; a valid one stays until attached or swept)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.posts.conftest import (
    CREATE_POST,
    bucket_keys,
    create_post,
    live_post_keys,
    multipart,
    process,
    upload,
)
from tests.support import samples

BAD_FILES = [
    ("zero-byte", lambda: b"", "image/jpeg", "empty"),
    (
        "text-as-jpg",
        lambda: b"hello, I am text named photo.jpg\n" * 3,
        "image/jpeg",
        "not a supported",
    ),
    ("truncated-jpeg", lambda: samples.photo(900, 700)[:2500], "image/jpeg", "truncated"),
    ("bomb", samples.png_bomb, "image/png", "decompression bomb"),
    ("over-pixels", lambda: samples.photo(2100, 2000), "image/jpeg", "pixels"),
    ("gif", samples.gif, "image/jpeg", "Unsupported file type"),
    ("long-video", lambda: samples.mp4(seconds=4.0, fps=5), "video/mp4", "limit is 3 s"),
]


async def assert_nothing_left(stores, keep_keys: list[str] = ()) -> None:
    assert await stores.db.posts.count_documents({}) == 0
    assert await stores.db.uploads.count_documents({}) == 0
    assert sorted(await bucket_keys(stores)) == sorted(keep_keys)


@pytest.mark.parametrize(
    ("name", "make", "content_type", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
async def test_bad_file_via_upload_url(gql, stores, alice, name, make, content_type, message):
    _, token = alice
    upload_id = await upload(gql, token, make(), content_type)
    resp = await create_post(gql, token, [upload_id], caption="#nope")
    assert resp.codes == ["BAD_USER_INPUT"], resp.errors
    assert message in resp.errors[0]["message"]
    assert resp.errors[0]["message"].startswith("media[0]: ")
    await assert_nothing_left(stores)
    assert await stores.db.hashtags.count_documents({}) == 0


@pytest.mark.parametrize(
    ("name", "make", "content_type", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
async def test_bad_file_via_multipart(http, stores, alice, name, make, content_type, message):
    _, token = alice
    variables = {"input": {"media": [{"file": None}]}}
    resp = await multipart(
        http,
        CREATE_POST,
        variables,
        {"input.media.0.file": ("photo.jpg", make(), content_type)},
        token=token,
    )
    body = resp.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert message in body["errors"][0]["message"]
    await assert_nothing_left(stores)


async def test_eleven_items_and_long_caption_and_too_many_hashtags(gql, stores, alice):
    _, token = alice
    up = await upload(gql, token, samples.photo(64, 64), "image/jpeg")
    before = await bucket_keys(stores)
    eleven = await create_post(gql, token, [up] * 11)
    assert eleven.codes == ["BAD_USER_INPUT"] and "1 to 10" in eleven.errors[0]["message"]
    none = await create_post(gql, token, [])
    assert none.codes == ["BAD_USER_INPUT"]
    long = await create_post(gql, token, [up], caption="x" * 2201)
    assert long.codes == ["BAD_USER_INPUT"] and "2200" in long.errors[0]["message"]
    tags = " ".join(f"#t{i}x" for i in range(31))
    many = await create_post(gql, token, [up], caption=tags)
    assert many.codes == ["BAD_USER_INPUT"] and "hashtags" in many.errors[0]["message"]
    bad_loc = await create_post(gql, token, [up], location={"name": "X", "lat": 91.0, "lng": 0.0})
    assert bad_loc.codes == ["BAD_USER_INPUT"]
    # Nothing new: the (valid) upload is untouched and still usable.
    assert await stores.db.posts.count_documents({}) == 0
    assert await bucket_keys(stores) == before
    ok = await create_post(gql, token, [up], caption="x" * 2200)
    assert ok.ok()["createPost"]["status"] == "PROCESSING"


async def test_upload_of_another_user_or_expired_or_reused(gql, app, stores, alice, bob):
    _, alice_token = alice
    _, bob_token = bob
    bobs = await upload(gql, bob_token, samples.photo(64, 64), "image/jpeg")
    stolen = await create_post(gql, alice_token, [bobs])
    assert stolen.codes == ["BAD_USER_INPUT"] and "no such upload" in stolen.errors[0]["message"]
    assert await stores.db.uploads.count_documents({"status": "PENDING"}) == 1  # still Bob's

    expired = await upload(gql, alice_token, samples.photo(64, 64), "image/jpeg")
    await stores.db.uploads.update_one(
        {"owner_id": alice[0]}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    resp = await create_post(gql, alice_token, [expired])
    assert resp.codes == ["BAD_USER_INPUT"] and "expired" in resp.errors[0]["message"]
    assert await stores.db.uploads.count_documents({"owner_id": alice[0]}) == 0

    used = (await create_post(gql, bob_token, [bobs])).ok()["createPost"]
    again = await create_post(gql, bob_token, [bobs])
    assert again.codes == ["BAD_USER_INPUT"] and "already used" in again.errors[0]["message"]
    await process(app, used["id"])
    assert await stores.db.posts.count_documents({}) == 1
    assert await bucket_keys(stores) == await live_post_keys(stores)


async def test_bad_item_in_a_carousel_refuses_the_whole_post(gql, stores, alice):
    _, token = alice
    good = await upload(gql, token, samples.photo(64, 64), "image/jpeg")
    bad = await upload(gql, token, b"", "image/jpeg")
    resp = await create_post(gql, token, [good, bad])
    assert resp.codes == ["BAD_USER_INPUT"] and resp.errors[0]["message"].startswith("media[1]")
    assert await stores.db.posts.count_documents({}) == 0
    # The refused file is gone; the good one stays for a retry (or the sweeper).
    remaining = [d async for d in stores.db.uploads.find({})]
    assert [d["status"] for d in remaining] == ["PENDING"]
    assert await bucket_keys(stores) == [remaining[0]["key"]]


async def test_unsupported_declared_type_and_oversize_ticket(gql, alice, settings):
    _, token = alice
    q = "mutation($i: CreateUploadUrlInput!) { createUploadUrl(input: $i) { uploadId } }"
    gif = await gql(q, {"i": {"contentType": "image/gif", "size": 10}}, token=token)
    assert gif.codes == ["BAD_USER_INPUT"]
    big = await gql(
        q, {"i": {"contentType": "video/mp4", "size": settings.max_upload_bytes + 1}}, token=token
    )
    assert big.codes == ["BAD_USER_INPUT"]


async def test_object_bigger_than_the_limit_is_refused(gql, stores, alice, settings):
    _, token = alice
    settings.max_upload_bytes = 20_000  # the PUT itself cannot be bounded by a presigned URL
    # The client declares a small file, then PUTs a bigger one.
    data = samples.photo(64, 64) + b"\0" * 25_000
    up = await upload(gql, token, data, "image/jpeg", declared_size=1000)
    resp = await create_post(gql, token, [up])
    assert resp.codes == ["BAD_USER_INPUT"] and "limit is 20000 bytes" in resp.errors[0]["message"]
    await assert_nothing_left(stores)
