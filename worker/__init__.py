"""The background worker: a saq (Redis-backed) job queue running fan-out, media processing and
sweeps. `photogram worker` starts it; `worker.queue.enqueue` is how the rest of the app asks."""
