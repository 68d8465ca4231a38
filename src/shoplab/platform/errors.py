"""Error categories shared by every context's domain.

A domain raises its own exceptions (``OutOfStock``, ``EmailTaken``...), each a
subclass of one category here. The HTTP edge maps categories to status codes in
one place (``platform.http.problems``), so a domain never knows about HTTP.
This module is plain Python: domains may import it.
"""


class DomainError(Exception):
    """A rule of the domain refused the request; the message is safe to show."""

    title = "Request refused"


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class InvalidInput(DomainError):
    title = "Invalid request"


class Unauthorized(DomainError):
    title = "Unauthorized"


class Forbidden(DomainError):
    title = "Forbidden"


class TooManyRequests(DomainError):
    """The caller asked too often; ``retry_after_seconds`` says when it may ask again."""

    title = "Too many requests"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    """A collaborator this request needs did not answer; trying again later may work."""

    title = "Service unavailable"
    retry_after_seconds = 1
    """What the answer's ``Retry-After`` advises: a short wait, the smallest HTTP can say."""


class Overloaded(Unavailable):
    """The system is settling all it can; ``retry_after_seconds`` says when to ask again.

    Nothing was done for the request, so sending it again (with the same
    Idempotency-Key) is safe."""

    title = "Service overloaded"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds
