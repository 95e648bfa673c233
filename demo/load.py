"""Playing a demo plan (demo/world.py) through the real write paths: register_user,
update_profile, set_avatar, follow_user, create_post (the media pipeline renders it in the
worker), like_post, add_comment, share_post. Their events do the rest (fan-out, notifications,
search indexes), handled by a worker running in this process for the duration, so the world is
complete when this returns, whether or not `photogram worker` runs too.

The demo's only departures from production settings, both for this process alone: rate limits
are raised (one process creates a few hundred posts in a minute), and the celebrity threshold
is lowered to the plan's (see `Plan.celebrity_threshold`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bson import ObjectId
from saq import Queue

from core.events import Deps
from core.settings import Settings
from datastore import accounts, posts
from datastore.stores import open_stores, prepare_stores
from demo.pictures import avatar_png, clip_mp4, photo_jpeg
from demo.progress import Progress
from demo.world import DEMO_PASSWORD, DemoSize, Plan, plan_world
from services.add_comment import add_comment
from services.create_post import LocationArg, MediaArg, create_post
from services.follow_user import follow_user
from services.like_post import like_post
from services.register_user import register_user
from services.set_avatar import set_avatar_from_bytes
from services.share_post import share_post
from services.update_profile import update_profile
from worker.main import build_workers
from worker.queue import make_queue

UNLIMITED = "1000000/hour"
RATE_LIMITS = ("follow", "post", "like", "comment", "register_address")
READY_TIMEOUT_S = 300.0


class DemoError(RuntimeError):
    """The database holds part of a demo world: an interrupted run."""


@dataclass(frozen=True, slots=True)
class DemoResult:
    created: bool
    login: str
    password: str
    users: int
    posts: int
    seconds: float
    celebrity_threshold: int


def demo_settings(settings: Settings, plan: Plan) -> Settings:
    limits = {f"rate_limit_{action}": UNLIMITED for action in RATE_LIMITS}
    return settings.model_copy(
        update={**limits, "celebrity_follower_threshold": plan.celebrity_threshold}
    )


async def _bounded(
    items: Iterable[object], work: Callable[..., Awaitable[object]], progress: Progress, n: int
) -> list[object]:
    """`work(item)` for each item, `n` at a time, in order of the results."""
    gate = asyncio.Semaphore(n)

    async def one(item: object) -> object:
        async with gate:
            out = await work(item)
            progress.advance()
            return out

    return list(await asyncio.gather(*(one(item) for item in items)))


async def load_demo(
    settings: Settings, size: DemoSize, *, seed: int = 16, progress: Progress | None = None
) -> DemoResult:
    plan = plan_world(size, seed)
    settings = demo_settings(settings, plan)
    progress = progress or Progress(enabled=False)
    started = time.monotonic()
    stores = open_stores(settings)
    queue = make_queue(settings)
    deps = Deps(stores, queue)
    try:
        await prepare_stores(stores)
        if await accounts.find_by_login(stores, plan.login.username.lower()):
            return DemoResult(
                False, plan.login.username, DEMO_PASSWORD, 0, 0, 0.0, plan.celebrity_threshold
            )
        for user in plan.users:
            if await accounts.find_by_login(stores, user.username.lower()):
                raise DemoError(
                    f"user {user.username!r} exists but the demo login does not: an earlier "
                    "`photogram demo` was interrupted. Empty the database (MONGODB_DB) and run "
                    "it again."
                )
        # Both queues' workers (the video's transcodes the demo clip), with only the jobs the
        # writes queue: the crons are `photogram worker`'s (and on a busy FerretDB their scans
        # would time out behind the rendering).
        workers = build_workers(settings)
        for w in workers:
            w.cron_jobs = []
        tasks = [asyncio.create_task(w.start()) for w in workers]
        try:
            post_count = await _play(deps, plan, progress)
            await _drain(queue)
        finally:
            # The video worker first: the default worker's shutdown closes the shared stores.
            for w in reversed(workers):
                await w.stop()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return DemoResult(
            True,
            plan.login.username,
            DEMO_PASSWORD,
            len(plan.users),
            post_count,
            time.monotonic() - started,
            plan.celebrity_threshold,
        )
    finally:
        await queue.disconnect()
        await stores.close()


async def _play(deps: Deps, plan: Plan, progress: Progress) -> int:
    # The demo login is registered last: its existence says the world is complete.
    order = [*range(1, len(plan.users)), 0]
    ids: dict[int, ObjectId] = {}

    async def make_user(index: int) -> None:
        user = plan.users[index]
        auth = await register_user(
            deps,
            username=user.username,
            email=f"{user.username}@demo.photogram.test",
            password=DEMO_PASSWORD,
            full_name=user.full_name,
            client_address="demo",
        )
        ids[index] = auth.user["_id"]
        await update_profile(deps, ids[index], bio=user.bio)
        await set_avatar_from_bytes(deps, ids[index], avatar_png(user.initials, user.hue))

    progress.stage("users", len(order))
    # The login last, after everyone else exists; the rest a few at a time.
    await _bounded(order[:-1], make_user, progress, 4)
    await _bounded(order[-1:], make_user, progress, 1)

    progress.stage("follows", len(plan.follows))
    await _bounded(plan.follows, lambda e: follow_user(deps, ids[e[0]], ids[e[1]]), progress, 8)

    progress.stage("posts", len(plan.posts))
    video = clip_mp4()

    async def make_post(index: int) -> ObjectId:
        post = plan.posts[index]
        data = video if post.video else photo_jpeg(post.picture_seed)
        place = LocationArg(*post.location) if post.location else None
        doc = await create_post(deps, ids[post.author], [MediaArg(data=data)], post.caption, place)
        return doc["_id"]

    post_ids: list[ObjectId] = await _bounded(range(len(plan.posts)), make_post, progress, 4)  # type: ignore[assignment]
    await _wait_ready(deps, post_ids, progress)

    progress.stage("likes", len(plan.likes))
    await _bounded(plan.likes, lambda lk: like_post(deps, ids[lk[0]], post_ids[lk[1]]), progress, 8)
    progress.stage("comments", len(plan.comments))
    await _bounded(
        plan.comments,
        lambda c: add_comment(deps, ids[c[0]], post_ids[c[1]], c[2]),
        progress,
        8,
    )
    shares = [s for s in plan.shares if s[0] != s[2]]
    progress.stage("shares", len(shares))
    await _bounded(
        shares, lambda s: share_post(deps, ids[s[0]], post_ids[s[1]], [ids[s[2]]]), progress, 8
    )
    return len(post_ids)


async def _wait_ready(deps: Deps, post_ids: list[ObjectId], progress: Progress) -> None:
    """Until the worker has rendered every post (READY), or failed one (an error here)."""
    progress.stage("rendering", len(post_ids))
    waiting = set(post_ids)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while waiting:
        for doc in await posts.find_posts(deps.stores, list(waiting)):
            if doc["status"] == "FAILED":
                raise RuntimeError(f"demo post {doc['_id']} failed: {doc.get('failure_reason')}")
            if doc["status"] == "READY":
                waiting.discard(doc["_id"])
                progress.advance()
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"{len(waiting)} demo posts not rendered in {READY_TIMEOUT_S} s")
        if waiting:
            await asyncio.sleep(0.3)


async def _drain(queue: Queue) -> None:
    """Until the fan-out and notification jobs the writes queued have run ("incomplete" would
    count the crons' next runs too)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while await queue.count("queued") + await queue.count("active") > 0:
        if time.monotonic() > deadline:
            raise RuntimeError("the demo's jobs did not finish")
        await asyncio.sleep(0.2)
