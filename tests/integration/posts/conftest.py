"""Helpers for the posts/media tests: uploads through a presigned URL or multipart, running the
processing job, and listing what the bucket and MongoDB hold."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from bson import ObjectId

from core.ids import decode_id, to_global_id
from tests.support.factories import create_user
from tests.support.graphql import GraphQLResponse

# Lower limits than production, so the over-limit files stay small and quick to build.
TEST_MAX_PIXELS = 4_000_000
TEST_MAX_VIDEO_SECONDS = 3.0

POST_FIELDS = """
  id status failureReason caption hashtags mentions createdAt publishedAt
  likeCount commentCount shareCount
  author { id username postCount }
  location { id name lat lng postCount }
  media {
    type width height blurhash durationSeconds codec
    url webp: url(width: 600) jpeg: url(width: 600, format: JPEG) posterUrl
    renditions { width height url contentType }
    thumbnail { width height url }
  }
"""

CREATE_UPLOAD_URL = """
mutation($input: CreateUploadUrlInput!) {
  createUploadUrl(input: $input) { uploadId url expiresAt headers { name value } }
}"""

CREATE_POST = f"""
mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ {POST_FIELDS} }} }}"""

GET_POST = f"query($id: ID!) {{ post(id: $id) {{ {POST_FIELDS} }} }}"


@pytest.fixture
async def settings(settings):
    settings.max_image_pixels = TEST_MAX_PIXELS
    settings.max_video_seconds = TEST_MAX_VIDEO_SECONDS
    settings.rate_limit_post = "1000/hour"
    return settings


@pytest.fixture
async def alice(stores) -> tuple[ObjectId, str]:
    return await create_user(stores, "alice")


@pytest.fixture
async def bob(stores) -> tuple[ObjectId, str]:
    return await create_user(stores, "bob")


async def upload(
    gql, token: str, data: bytes, content_type: str = "image/jpeg", declared_size: int | None = None
) -> str:
    """createUploadUrl, then PUT the bytes straight to object storage; returns the uploadId."""
    ticket = (
        await gql(
            CREATE_UPLOAD_URL,
            {"input": {"contentType": content_type, "size": declared_size or max(1, len(data))}},
            token=token,
        )
    ).ok()["createUploadUrl"]
    headers = {h["name"]: h["value"] for h in ticket["headers"]}
    async with httpx.AsyncClient() as client:
        resp = await client.put(ticket["url"], content=data, headers=headers)
    assert resp.status_code == 200, resp.text
    return ticket["uploadId"]


async def create_post(gql, token: str, upload_ids: list[str], **fields: Any) -> GraphQLResponse:
    media = [{"uploadId": u} for u in upload_ids]
    return await gql(CREATE_POST, {"input": {"media": media, **fields}}, token=token)


async def multipart(
    http: httpx.AsyncClient,
    query: str,
    variables: dict,
    files: dict[str, tuple[str, bytes, str]],
    *,
    token: str | None = None,
    preflight: bool = True,
) -> httpx.Response:
    """A graphql-multipart-request: `files` maps variable paths ("input.media.0.file") to
    (filename, bytes, declared content type)."""
    names = {str(i): path for i, path in enumerate(files)}
    headers = {"Apollo-Require-Preflight": "true"} if preflight else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    form = {
        "operations": json.dumps({"query": query, "variables": variables}),
        "map": json.dumps({k: [f"variables.{p}"] for k, p in names.items()}),
    }
    upload_files = {k: files[p] for k, p in names.items()}
    return await http.post("/graphql", data=form, files=upload_files, headers=headers)


async def process(app, post_gid: str) -> str:
    """Run the processing job in this process, as the worker would."""
    from worker.posts_jobs import process_post_media

    ctx = {"stores": app.state.stores, "queue": app.state.queue}
    return await process_post_media(ctx, post_id=str(decode_id(post_gid, "Post")))


async def bucket_keys(stores) -> list[str]:
    return sorted(await stores.objects.list_keys(""))


async def live_post_keys(stores) -> list[str]:
    """Every object key referenced by a post or an avatar in MongoDB."""
    from services.media_objects import item_keys

    keys: list[str] = []
    async for post in stores.db.posts.find({}):
        for item in post["media"]:
            keys += item_keys(item)
    async for user in stores.db.users.find({"avatar": {"$ne": None}}):
        keys += item_keys(user["avatar"])
    return sorted(set(keys))


def gid(kind: str, oid: ObjectId) -> str:
    return to_global_id(kind, oid)
