"""Every worker job, by domain, in one place: its name and the module that defines it.

Enqueue through a handle (`await jobs.FAN_OUT_POST.enqueue(queue, post_id=...)`), never by a
string: `worker.queue.enqueue` refuses anything else, and the worker refuses to start when a
handle has no `@job` function or a `@job` function has no handle, so a misspelt job cannot sit
in the queue with nothing to run it. Handles are plain data, so the API enqueues without
importing the jobs' (heavy) modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saq import Queue
    from saq.job import Job


@dataclass(frozen=True, slots=True)
class JobHandle:
    name: str  # the `@job` function's name
    module: str  # where it is defined; the worker imports it

    async def enqueue(self, queue: Queue, *, key: str | None = None, **kwargs: Any) -> Job | None:
        """`worker.queue.enqueue` for this job."""
        from worker.queue import enqueue

        return await enqueue(queue, self, key=key, **kwargs)


# worker
ECHO = JobHandle("echo", "worker.builtin_jobs")
# accounts
FLUSH_ACTIVITY = JobHandle("flush_activity", "services.touch_activity")
# posts and media
PROCESS_POST_MEDIA = JobHandle("process_post_media", "worker.posts_jobs")
# runs on the video queue (worker/queue.py make_video_queue), never on the default one
TRANSCODE_POST_MEDIA = JobHandle("transcode_post_media", "worker.posts_jobs")
SWEEP_UPLOADS = JobHandle("sweep_uploads", "worker.posts_jobs")
PURGE_POST_OBJECTS = JobHandle("purge_post_objects", "worker.posts_jobs")
# feed
FAN_OUT_POST = JobHandle("fan_out_post", "feed.fanout")
REMOVE_POST_FROM_TIMELINES = JobHandle("remove_post_from_timelines", "feed.fanout")
REFRESH_EXPLORE = JobHandle("refresh_explore_job", "feed.explore")
# interactions
NOTIFY_POST_MENTIONS = JobHandle("notify_post_mentions", "services.interaction_events")
# search
SEARCH_REINDEX = JobHandle("search_reindex", "search.jobs")
SEARCH_REBUILD = JobHandle("search_rebuild", "search.jobs")
SEARCH_SYNC_USERS = JobHandle("search_sync_users", "search.jobs")
# maintenance: counters reconciled with their edges
RECONCILE_COUNTERS = JobHandle("reconcile_counters", "maintenance.jobs")
SWEEP_COUNTERS = JobHandle("sweep_counters", "maintenance.jobs")

ALL: tuple[JobHandle, ...] = tuple(v for v in list(globals().values()) if isinstance(v, JobHandle))
