"""Object storage (S3 API; MinIO locally). The MinIO SDK is synchronous, so calls run in threads."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import urllib3
from minio import Minio
from minio.error import S3Error

from core.settings import Settings

SIGNED_URL_CACHE_SIZE = 50_000


class ObjectStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.public_base_url = settings.media_public_base_url
        # Signed GET URLs by (key, lifetime, window start); see presigned_get.
        self._signed_get = lru_cache(maxsize=SIGNED_URL_CACHE_SIZE)(self._sign_get)
        self.client = Minio(
            settings.s3_host,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            region=settings.s3_region,
            # Short connect timeout and few retries: a dead endpoint must show up on /readyz
            # in about a second, not after urllib3's default backoff.
            http_client=urllib3.PoolManager(
                maxsize=32,
                timeout=urllib3.Timeout(connect=1.0, read=30.0),
                retries=urllib3.Retry(
                    total=2, connect=1, backoff_factor=0.1, status_forcelist=(500, 502, 503, 504)
                ),
            ),
        )

    async def ensure_bucket(self) -> None:
        def _ensure() -> None:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:  # another process made it first
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

        await asyncio.to_thread(_ensure)

    async def ping(self) -> None:
        exists = await asyncio.to_thread(self.client.bucket_exists, self.bucket)
        if not exists:
            raise RuntimeError(f"bucket {self.bucket!r} does not exist")

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
        )

    async def get(self, key: str) -> bytes:
        def _get() -> bytes:
            resp = self.client.get_object(self.bucket, key)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()

        return await asyncio.to_thread(_get)

    async def delete_many(self, keys: list[str]) -> None:
        if not keys:
            return
        from minio.deleteobjects import DeleteObject

        def _delete() -> None:
            errors = list(self.client.remove_objects(self.bucket, [DeleteObject(k) for k in keys]))
            if errors:
                raise RuntimeError(f"failed to delete {len(errors)} objects: {errors[0]}")

        await asyncio.to_thread(_delete)

    async def list_keys(self, prefix: str = "") -> list[str]:
        def _list() -> list[str]:
            objs = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            return [o.object_name for o in objs]

        return await asyncio.to_thread(_list)

    def presigned_get(
        self, key: str, expires: timedelta = timedelta(hours=1), now: float | None = None
    ) -> str:
        """A GET URL valid for at least `expires / 2` from now.

        URLs are signed as of the start of the current half-lifetime window, so within a window
        every request gets the same URL for a key: browsers and CDNs cache the image, and the
        HMAC signing (about 50 us, 40 of them on a feed page) runs once per key and window in
        this process instead of once per field."""
        if self.public_base_url:
            return f"{self.public_base_url.rstrip('/')}/{key}"
        lifetime = int(expires.total_seconds())
        window = max(1, lifetime // 2)
        start = int(time.time() if now is None else now) // window * window
        return self._signed_get(key, lifetime, start)

    def _sign_get(self, key: str, lifetime: int, start: int) -> str:
        return self.client.presigned_get_object(
            self.bucket,
            key,
            expires=timedelta(seconds=lifetime),
            request_date=datetime.fromtimestamp(start, UTC),
        )

    def presigned_put(self, key: str, expires: timedelta) -> str:
        return self.client.presigned_put_object(self.bucket, key, expires=expires)
