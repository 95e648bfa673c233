"""Counting what a request costs: MongoDB commands (PyMongo command monitoring) and Redis round
trips (one per packed send: a pipeline of 50 commands is one round trip).

Used by the batching tests and the benchmark's cost-per-request figures.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pymongo import monitoring

from datastore.redis_connection import PackingConnection


class MongoCommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in ("hello", "isMaster", "ismaster", "ping", "endSessions"):
            self.commands[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @property
    def total(self) -> int:
        return sum(self.commands.values())

    def reset(self) -> None:
        self.commands.clear()


class RedisRoundTrips:
    """Shared counter for every CountingConnection of a client."""

    def __init__(self) -> None:
        self.total = 0

    def reset(self) -> None:
        self.total = 0


class CountingConnection(PackingConnection):
    counter: RedisRoundTrips | None = None

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if self.counter is not None:
            self.counter.total += 1
        await super().send_packed_command(command, check_health)


def counting_connection_class(counter: RedisRoundTrips) -> type[CountingConnection]:
    return type("BoundCountingConnection", (CountingConnection,), {"counter": counter})
