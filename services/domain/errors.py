"""Errors raised by the domain model; the API maps each kind to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base class for rule violations, carrying the field at fault when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidValue(DomainError):
    """A value is outside what the domain accepts (HTTP 422)."""


class StateConflict(DomainError):
    """The command is not allowed in the aggregate's current state (HTTP 409)."""


class NotFound(DomainError):
    """The referenced entity does not exist, or is not visible to the caller (HTTP 404)."""


class RequestKeyReused(DomainError):
    """An idempotency key was reused with a different request (HTTP 422)."""


class OverQuota(DomainError):
    """Storing this would take the athlete over their storage quota (HTTP 413)."""
