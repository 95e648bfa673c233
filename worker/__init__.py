"""The background worker: a saq (Redis-backed) job queue running fan-out, media processing and
sweeps. `photogram worker` starts it; the rest of the app enqueues through the handles in
`worker/jobs.py`."""
