"""Configuration from the environment (and an optional .env file); see .env.example."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"
LOCAL_MONGODB_URL = "mongodb://127.0.0.1:37017/"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=False)

    env: Literal["dev", "test", "prod"] = "dev"
    log_level: str = "INFO"

    # MongoDB (FerretDB locally). The database name lets tests isolate themselves.
    mongodb_url: str = LOCAL_MONGODB_URL
    mongodb_db: str = "photogram"
    mongodb_timeout_ms: int = 3000
    # How long one command may wait for the server's answer: bounds a request while the
    # database hangs (accepts, never answers). Above FerretDB's slowest full scan here.
    mongodb_socket_timeout_ms: int = 15000
    # Which server speaks the wire protocol: `mongodb` (MongoDB itself, Atlas, or any server with
    # MongoDB's atomic single-document updates) or `ferretdb` (our local FerretDB 1.24, whose
    # gaps datastore/ works around in one place). Unset: `ferretdb` for the local default URL,
    # `mongodb` for a MONGODB_URL given by the user.
    mongo_flavor: Literal["mongodb", "ferretdb"] | None = None

    # Redis: every key and channel starts with redis_prefix, so test runs never collide.
    redis_url: str = "redis://127.0.0.1:36379/0"
    redis_prefix: str = "pg:"

    # S3 object storage (MinIO locally).
    s3_endpoint: str = "http://127.0.0.1:39000"
    s3_access_key: str = "photogram"
    s3_secret_key: SecretStr = SecretStr("photogram-local-dev")
    s3_bucket: str = "photogram-media"
    s3_region: str = "us-east-1"
    media_public_base_url: str | None = None

    # Auth
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600

    # GraphQL server
    graphiql: bool = True
    introspection: bool = True
    max_page_size: int = 50
    default_page_size: int = 20

    # Gateway limits and observability (gateway/; README "Limits and metrics")
    max_query_depth: int = 15
    max_query_aliases: int = 50
    max_query_tokens: int = 5000
    max_query_cost: int = 10_000
    # Per-client leaky bucket of cost points (Shopify's model); capacity 0 turns it off.
    cost_bucket_capacity: int = 20_000
    cost_bucket_restore_rate: int = 1_000
    max_request_bytes: int = 1024 * 1024
    max_batch_operations: int = 10
    max_ws_connections_per_user: int = 5
    # Live updates at width (realtime/, docs/realtime.md): postUpdated coalescing interval,
    # per-socket outbox bound, the stall after which a socket is closed (4008), keep-alive.
    realtime_coalesce_ms: int = 250
    ws_outbox_max_messages: int = 64
    ws_stall_seconds: float = 10.0
    ws_keepalive_seconds: float = 20.0
    ws_per_message_deflate: bool = False
    persisted_query_ttl_seconds: int = 7 * 24 * 3600
    cors_allow_origins: str = ""
    metrics_max_operation_names: int = 200

    # GraphQL execution: `compiled` plans each query operation once and runs the plan
    # (gateway/compiled/); `standard` is graphql-core's own executor for everything.
    graphql_executor: Literal["compiled", "standard"] = "compiled"
    # The API process's young-generation GC threshold, set with gc.freeze() once the app has
    # started (app.py tune_gc: why); 0 leaves CPython's defaults.
    gc_gen0_threshold: int = 10_000

    # Worker
    queue_name: str = "default"
    worker_concurrency: int = 10

    # Feed
    feed_strategy: Literal["push", "pull", "hybrid"] = "hybrid"
    celebrity_follower_threshold: int = 1_000_000
    timeline_cap: int = 800
    inactive_after_days: int = 30

    # Rate limits ("N per hour" style strings understood by the `limits` library)
    rate_limit_follow: str = "200/hour"
    rate_limit_post: str = "10/hour"
    rate_limit_like: str = "1000/hour"
    rate_limit_comment: str = "100/hour"
    rate_limit_login_account: str = "10/minute"
    rate_limit_login_address: str = "50/minute"
    rate_limit_register_address: str = "50/hour"

    # Accounts (services/passwords.py; None = the profile for ENV: RFC 9106's low-memory
    # profile outside tests, the library minimum under ENV=test so suites stay fast)
    argon2_time_cost: int | None = None
    argon2_memory_kib: int | None = None
    argon2_parallelism: int | None = None
    # last_active_at is written at most once per this many seconds per user.
    activity_touch_seconds: int = 60

    # Media limits
    max_upload_bytes: int = Field(default=50 * 1024 * 1024)
    max_video_seconds: float = 90.0
    max_image_pixels: int = 50_000_000
    # Video (media/transcode.py): refused at createPost above these; 4K at a phone's bitrate
    # passes. Transcodes run on their own queue, `video_worker_concurrency` at a time.
    max_video_pixels: int = 3840 * 2160
    max_video_bitrate: int = 80_000_000
    video_queue_name: str = "video"
    video_worker_concurrency: int = 1
    video_job_timeout_seconds: int = 1800
    # The transcoder process's niceness: photo rendering and fan-out go first on a busy box.
    video_transcode_nice: int = 10
    # createUploadUrl: how long the presigned PUT (and its `uploads` record) lives.
    upload_url_ttl_seconds: int = 15 * 60
    # A multipart GraphQL request (files inline) may carry at most this many bytes in all.
    max_multipart_request_bytes: int = Field(default=100 * 1024 * 1024)

    @model_validator(mode="after")
    def _default_mongo_flavor(self) -> Settings:
        if self.mongo_flavor is None:
            local = self.mongodb_url.rstrip("/") == LOCAL_MONGODB_URL.rstrip("/")
            self.mongo_flavor = "ferretdb" if local else "mongodb"
        return self

    @model_validator(mode="after")
    def _refuse_dev_secret_outside_dev(self) -> Settings:
        if self.env == "prod" and self.jwt_secret.get_secret_value() in ("", DEV_JWT_SECRET):
            raise ValueError("JWT_SECRET must be set to a strong secret when ENV=prod")
        return self

    def as_env(self) -> dict[str, str]:
        """Environment variables that give a child process (server, worker) these settings."""
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, bool):
                value = "true" if value else "false"
            env[name.upper()] = str(value)
        return env

    @property
    def s3_host(self) -> str:
        return urlparse(self.s3_endpoint).netloc

    @property
    def s3_secure(self) -> bool:
        return urlparse(self.s3_endpoint).scheme == "https"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
