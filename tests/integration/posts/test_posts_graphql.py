"""createUploadUrl -> PUT -> createPost -> processing -> reading, editing, deleting, through
GraphQL against real MongoDB, Redis and MinIO. Processing runs the job function in-process
(tests/integration/posts/test_worker_e2e.py runs it in a real worker)."""

import asyncio
import io

import httpx
from PIL import Image

from tests.integration.posts.conftest import (
    GET_POST,
    POST_FIELDS,
    bucket_keys,
    create_post,
    live_post_keys,
    process,
    upload,
)
from tests.support import samples
from tests.support.factories import create_user, follow


async def fetch(url: str) -> bytes:
    async with httpx.AsyncClient() as client:
        resp = await client.get(url)
    assert resp.status_code == 200, url
    return resp.content


async def test_photo_post_from_processing_to_ready(gql, app, stores, alice, bob):
    _, alice_token = alice
    _, bob_token = bob
    photo = samples.photo(width=1600, height=1200, orientation=6, gps=True)
    upload_id = await upload(gql, alice_token, photo, "image/jpeg")
    created = (
        await create_post(
            gql,
            alice_token,
            [upload_id],
            caption="Sunset at the #Beach with @Bob #beach #Café",
            location={"name": "Scheveningen Pier", "lat": 52.1144, "lng": 4.2797},
        )
    ).ok()["createPost"]
    assert created["status"] == "PROCESSING"
    assert created["hashtags"] == ["beach", "café"]
    assert created["mentions"] == ["bob"]
    assert created["media"][0]["type"] == "PHOTO"
    assert (created["media"][0]["width"], created["media"][0]["height"]) == (1200, 1600)
    post_id = created["id"]

    # Others do not see a post before it is READY; its author does.
    assert (await gql(GET_POST, {"id": post_id}, token=bob_token)).ok()["post"] is None
    assert (await gql(GET_POST, {"id": post_id}, token=alice_token)).ok()["post"]["id"] == post_id

    assert await process(app, post_id) == "ready"
    post = (await gql(GET_POST, {"id": post_id}, token=bob_token)).ok()["post"]
    assert post["status"] == "READY" and post["publishedAt"]
    assert post["author"] == {"id": post["author"]["id"], "username": "alice", "postCount": 1}
    assert post["location"]["name"] == "Scheveningen Pier"
    assert post["location"]["postCount"] == 1
    media = post["media"][0]
    assert media["blurhash"]
    assert [(r["width"], r["contentType"]) for r in media["renditions"]] == [
        (320, "image/webp"),
        (320, "image/jpeg"),
        (640, "image/webp"),
        (640, "image/jpeg"),
        (1080, "image/webp"),
        (1080, "image/jpeg"),
    ]
    assert media["thumbnail"]["width"] == media["thumbnail"]["height"] == 320
    # url(width) picks the nearest rendition at least that wide, in the asked format.
    webp = Image.open(io.BytesIO(await fetch(media["webp"])))
    assert webp.format == "WEBP" and webp.width == 640
    jpeg_bytes = await fetch(media["jpeg"])
    jpeg = Image.open(io.BytesIO(jpeg_bytes))
    assert jpeg.format == "JPEG" and jpeg.width == 640
    # Upright (portrait) and with no EXIF at all, GPS above all.
    assert jpeg.height > jpeg.width
    assert not jpeg.getexif() and b"Exif" not in jpeg_bytes
    largest = Image.open(io.BytesIO(await fetch(media["url"])))
    assert largest.width == 1080

    # Counters: the author's post count, the hashtags' and the location's.
    assert {h["_id"]: h["post_count"] async for h in stores.db.hashtags.find({})} == {
        "beach": 1,
        "café": 1,
    }
    # Only renditions remain: the original (with its GPS) is gone, and its upload record.
    assert await bucket_keys(stores) == await live_post_keys(stores)
    assert all(k.startswith("posts/") for k in await bucket_keys(stores))
    assert await stores.db.uploads.count_documents({}) == 0


async def test_carousel_with_video_and_heic(gql, app, stores, alice):
    _, token = alice
    ids = [
        await upload(gql, token, samples.photo(fmt="PNG"), "image/png"),
        await upload(gql, token, samples.mp4(seconds=1.0), "video/mp4"),
        await upload(gql, token, samples.heic(), "image/heic"),
        await upload(gql, token, samples.photo(fmt="WEBP"), "image/webp"),
    ]
    created = (await create_post(gql, token, ids)).ok()["createPost"]
    assert [m["type"] for m in created["media"]] == ["PHOTO", "VIDEO", "PHOTO", "PHOTO"]
    assert await process(app, created["id"]) == "ready"
    post = (await gql(GET_POST, {"id": created["id"]}, token=token)).ok()["post"]
    video = post["media"][1]
    assert video["durationSeconds"] is not None and 0.8 < video["durationSeconds"] < 1.2
    assert (video["width"], video["height"], video["codec"]) == (320, 240, "h264")
    assert video["renditions"][0]["contentType"] == "video/mp4"
    data = await fetch(video["url"])
    assert data[4:8] == b"ftyp"
    poster = Image.open(io.BytesIO(await fetch(video["posterUrl"])))
    assert poster.size == (320, 240)
    assert post["media"][2]["width"] == 640  # HEIC decoded
    assert await bucket_keys(stores) == await live_post_keys(stores)


async def test_profile_grid_newest_first_with_cursor_and_visibility(gql, app, stores, alice, bob):
    alice_id, alice_token = alice
    bob_id, bob_token = bob
    await stores.db.users.update_one({"_id": alice_id}, {"$set": {"is_private": True}})
    ids = []
    for i in range(3):
        up = await upload(gql, alice_token, samples.photo(width=200, height=200), "image/jpeg")
        ids.append(
            (await create_post(gql, alice_token, [up], caption=f"#n{i}")).ok()["createPost"]["id"]
        )
    for pid in ids[:2]:
        await process(app, pid)  # the third stays PROCESSING: not in the grid
    query = """query($u: String!, $after: String) { user(username: $u) { postCount
      posts(first: 1, after: $after) { edges { cursor node { id caption } }
        pageInfo { hasNextPage endCursor } } } }"""
    # A private account: a stranger sees an empty grid.
    hidden = (await gql(query, {"u": "alice"}, token=bob_token)).ok()["user"]
    assert hidden["posts"]["edges"] == []
    await follow(stores, bob_id, alice_id)
    seen, after = [], None
    while True:
        page = (await gql(query, {"u": "alice", "after": after}, token=bob_token)).ok()["user"]
        seen += [e["node"]["id"] for e in page["posts"]["edges"]]
        if not page["posts"]["pageInfo"]["hasNextPage"]:
            break
        after = page["posts"]["pageInfo"]["endCursor"]
    assert seen == [ids[1], ids[0]]
    assert page["postCount"] == 2
    node = await gql(
        "query($id: ID!) { node(id: $id) { ... on Post { id status } } }",
        {"id": ids[0]},
        token=bob_token,
    )
    assert node.ok()["node"] == {"id": ids[0], "status": "READY"}


async def test_edit_rederives_hashtags_and_moves_counts(gql, app, stores, alice, bob):
    _, token = alice
    up = await upload(gql, token, samples.photo(), "image/jpeg")
    post = (
        await create_post(gql, token, [up], caption="#one #two", location={"name": "Old Place"})
    ).ok()["createPost"]
    await process(app, post["id"])
    edit = f"""mutation($input: EditPostInput!) {{ editPost(input: $input) {{ {POST_FIELDS} }} }}"""
    _, bob_token = bob
    refused = await gql(edit, {"input": {"id": post["id"], "caption": "x"}}, token=bob_token)
    assert refused.codes == ["FORBIDDEN"]
    edited = (
        await gql(
            edit,
            {
                "input": {
                    "id": post["id"],
                    "caption": "#Two #three @Carol",
                    "location": {"name": "New Place", "lat": 1.5, "lng": 2.5},
                }
            },
            token=token,
        )
    ).ok()["editPost"]
    assert edited["hashtags"] == ["two", "three"] and edited["mentions"] == ["carol"]
    assert edited["location"]["name"] == "New Place" and edited["location"]["postCount"] == 1
    counts = {h["_id"]: h["post_count"] async for h in stores.db.hashtags.find({})}
    assert counts == {"one": 0, "two": 1, "three": 1}
    places = {p["name"]: p["post_count"] async for p in stores.db.locations.find({})}
    assert places == {"Old Place": 0, "New Place": 1}
    # Leaving caption out keeps it; null location clears it.
    kept = (await gql(edit, {"input": {"id": post["id"], "location": None}}, token=token)).ok()
    assert kept["editPost"]["caption"] == "#Two #three @Carol"
    assert kept["editPost"]["location"] is None
    assert {p["name"]: p["post_count"] async for p in stores.db.locations.find({})}[
        "New Place"
    ] == 0


async def test_delete_removes_post_objects_and_counts(gql, app, stores, alice, bob):
    alice_id, token = alice
    _, bob_token = bob
    ups = [await upload(gql, token, samples.photo(), "image/jpeg") for _ in range(2)]
    keep = (await create_post(gql, token, [ups[0]], caption="#stay")).ok()["createPost"]
    gone = (
        await create_post(gql, token, [ups[1]], caption="#stay #gone", location={"name": "Here"})
    ).ok()["createPost"]
    await process(app, keep["id"])
    await process(app, gone["id"])
    assert (await stores.db.users.find_one({"_id": alice_id}))["post_count"] == 2
    delete = "mutation($id: ID!) { deletePost(id: $id) }"
    assert (await gql(delete, {"id": gone["id"]}, token=bob_token)).codes == ["FORBIDDEN"]
    assert (await gql(delete, {"id": gone["id"]}, token=token)).ok()["deletePost"] is True
    assert (await gql(delete, {"id": gone["id"]}, token=token)).codes == ["NOT_FOUND"]
    assert (await gql(GET_POST, {"id": gone["id"]}, token=token)).ok()["post"] is None
    assert (await stores.db.users.find_one({"_id": alice_id}))["post_count"] == 1
    counts = {h["_id"]: h["post_count"] async for h in stores.db.hashtags.find({})}
    assert counts == {"stay": 1, "gone": 0}
    assert (await stores.db.locations.find_one({"name": "Here"}))["post_count"] == 0
    keys = await bucket_keys(stores)
    assert keys == await live_post_keys(stores)
    assert keys and not [k for k in keys if "posts/" + str(gone["id"]) in k]


async def test_deleting_a_processing_post_leaves_nothing(gql, app, stores, alice):
    alice_id, token = alice
    up = await upload(gql, token, samples.photo(), "image/jpeg")
    post = (await create_post(gql, token, [up], caption="#soon")).ok()["createPost"]
    assert (
        await gql("mutation($id: ID!) { deletePost(id: $id) }", {"id": post["id"]}, token=token)
    ).ok()
    assert await process(app, post["id"]) == "skipped"
    assert await bucket_keys(stores) == []
    assert await stores.db.uploads.count_documents({}) == 0
    assert (await stores.db.users.find_one({"_id": alice_id}))["post_count"] == 0
    assert await stores.db.hashtags.count_documents({"post_count": {"$ne": 0}}) == 0


async def test_rate_limit_on_posts(gql, app, stores, settings):
    settings.rate_limit_post = "2/hour"
    _, token = await create_user(stores, "busy")
    ups = [
        await upload(gql, token, samples.photo(width=64, height=64), "image/jpeg") for _ in range(3)
    ]
    assert (await create_post(gql, token, [ups[0]])).ok()
    assert (await create_post(gql, token, [ups[1]])).ok()
    limited = await create_post(gql, token, [ups[2]])
    assert limited.codes == ["RATE_LIMITED"]
    assert limited.errors[0]["extensions"]["retryAfter"] > 0


async def test_requires_login(gql):
    resp = await create_post(gql, None, ["x"])
    assert resp.codes == ["UNAUTHENTICATED"]


async def test_concurrent_posts_keep_counters_exact_and_uploads_single_use(gql, app, stores, alice):
    alice_id, token = alice
    ups = [
        await upload(gql, token, samples.photo(64, 64, color=(i, 9, 9)), "image/jpeg")
        for i in range(6)
    ]
    # Two posts racing for one upload: exactly one gets it.
    racing = await asyncio.gather(*(create_post(gql, token, [ups[0]]) for _ in range(2)))
    assert sorted(bool(r.errors) for r in racing) == [False, True]
    posts = [r.ok()["createPost"] for r in racing if not r.errors]
    posts += [
        r.ok()["createPost"]
        for r in await asyncio.gather(
            *(
                create_post(gql, token, [u], caption="#same", location={"name": "Spot"})
                for u in ups[1:]
            )
        )
    ]
    results = await asyncio.gather(*(process(app, p["id"]) for p in posts))
    assert results == ["ready"] * 6
    assert (await stores.db.users.find_one({"_id": alice_id}))["post_count"] == 6
    assert (await stores.db.hashtags.find_one({"_id": "same"}))["post_count"] == 5
    assert (await stores.db.locations.find_one({"name": "Spot"}))["post_count"] == 5
    assert await stores.db.locations.count_documents({}) == 1
