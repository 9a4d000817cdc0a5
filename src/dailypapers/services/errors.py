"""Errors that services raise for the web and CLI layers to turn into clear answers.

Each carries a message meant for the person who caused it; the web layer maps the class to an
HTTP status (Invalid 400, Forbidden 403, NotFound 404, Conflict 409, RateLimited 429).
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(ServiceError):
    """The input is malformed or breaks a rule; nothing was changed."""


class Forbidden(ServiceError):
    """The actor may not do this."""

    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    """The change clashes with existing state (e.g. the paper is already featured)."""

    status = 409

    def __init__(self, message: str, *, link: str | None = None) -> None:
        super().__init__(message)
        self.link = link


class RateLimited(ServiceError):
    """Too many attempts; ``retry_after`` is the number of seconds to wait."""

    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
