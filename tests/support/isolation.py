"""Each test gets its own MongoDB database, Redis key prefix and bucket, and they are removed
afterwards, so tests never see each other's data and can run in any order."""

from __future__ import annotations

import uuid

from core.settings import Settings, get_settings


def isolated_settings(**overrides: object) -> Settings:
    tag = uuid.uuid4().hex[:12]
    base = get_settings()
    values = {
        "env": "test",
        "mongodb_db": f"t_{tag}",
        "redis_prefix": f"t:{tag}:",
        "s3_bucket": f"t-{tag}",
        "log_level": "WARNING",
        **overrides,
    }
    return base.model_copy(update=values)


async def drop_everything(settings: Settings) -> None:
    """Remove the test's database, Redis keys and bucket (with its objects)."""
    import asyncio

    from datastore.stores import open_stores

    stores = open_stores(settings)
    try:
        await stores.mongo.drop_database(settings.mongodb_db)
        keys = [
            k async for k in stores.redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000)
        ]
        for i in range(0, len(keys), 500):
            await stores.redis.delete(*keys[i : i + 500])

        def _drop_bucket() -> None:
            client = stores.objects.client
            if client.bucket_exists(settings.s3_bucket):
                from minio.deleteobjects import DeleteObject

                objs = client.list_objects(settings.s3_bucket, recursive=True)
                list(
                    client.remove_objects(
                        settings.s3_bucket, [DeleteObject(o.object_name) for o in objs]
                    )
                )
                client.remove_bucket(settings.s3_bucket)

        await asyncio.to_thread(_drop_bucket)
    finally:
        await stores.close()


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that make a subprocess (uvicorn, worker) use these settings."""
    return settings.as_env()
