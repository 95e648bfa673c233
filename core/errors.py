"""Domain errors. Each carries the API's error code; the GraphQL layer turns it into
`extensions.code`. Nothing here knows about GraphQL."""

from __future__ import annotations

from typing import Any, ClassVar, Literal


class AppError(Exception):
    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class BadInput(AppError):
    code = "BAD_USER_INPUT"


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class NotFound(AppError):
    code = "NOT_FOUND"


class Conflict(AppError):
    code = "CONFLICT"


class RateLimited(AppError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int, **extensions: Any) -> None:
        super().__init__(message, retryAfter=max(1, int(retry_after)), **extensions)
        self.retry_after = max(1, int(retry_after))


Dependency = Literal["mongo", "redis", "storage"]


class ServiceUnavailable(AppError):
    """A dependency the request needs is down or not answering: retryable, never the client's
    fault. `dependency` names it; `retryAfter` (seconds) is a hint, not a promise."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(
        self, message: str, *, dependency: Dependency, retry_after: int = 1, **extensions: Any
    ) -> None:
        super().__init__(
            message, dependency=dependency, retryAfter=max(1, int(retry_after)), **extensions
        )
        self.dependency = dependency
        self.retry_after = max(1, int(retry_after))
