"""What can go wrong in a domain service, in the service's own words.

Services raise these; they know nothing of HTTP. `mjolby.http_errors` is the
one place that turns each kind into a status code and a Swedish
`{"detail": ...}` body (plus `code` when the error has one).
"""
from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. `detail` is the Swedish sentence the caller
    sees; `code` a stable machine-readable name (None: the body has no code)."""

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


class InvalidInput(DomainError):
    """The input breaks a rule of the domain (an empty reply, a bad phone number)."""


class NotFound(DomainError):
    """The thing asked about does not exist."""


class Conflict(DomainError):
    """The request does not fit the current state (already claimed, case ended, nobody can chat)."""


class TooLong(DomainError):
    """A text is longer than the domain accepts (a 413, like a too long message)."""


class Unauthorized(DomainError):
    """Nobody (or nobody valid) is signed in. `challenge` names the scheme a
    client should authenticate with, when there is one."""

    def __init__(self, detail: str, code: str | None = None, *, challenge: str | None = None) -> None:
        super().__init__(detail, code)
        self.challenge = challenge


class Forbidden(DomainError):
    """Signed in, but not allowed to do this."""


class RateLimited(DomainError):
    """Too many requests: try again after `retry_after` seconds. Without a
    detail the caller gets the standard sentence about too many requests."""

    def __init__(self, retry_after: int, detail: str | None = None, code: str | None = None) -> None:
        super().__init__(detail or "", code)
        self.retry_after = retry_after
        self.detail = detail  # type: ignore[assignment]
