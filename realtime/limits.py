"""The process's open-file limit: every WebSocket is a file descriptor, and a soft limit of
1,024 (a common default) caps a process far below 10,000 sockets."""

from __future__ import annotations

import logging

log = logging.getLogger("realtime.limits")


def raise_open_files_limit(wanted: int = 65_536) -> int:
    """Raise RLIMIT_NOFILE's soft limit towards `wanted`, as far as the hard limit allows (an
    unprivileged process may go up to it). Returns the soft limit now in force."""
    try:
        import resource
    except ImportError:  # not on this platform
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit to %d: %s", target, exc)
    if soft != resource.RLIM_INFINITY and soft < 10_000:
        log.warning("open-file limit %d: fewer WebSocket connections than 10,000 fit", soft)
    return soft
