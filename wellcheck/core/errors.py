"""Domain errors raised by services; views and the API turn them into clear messages."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A rule of the domain refused the change; ``field`` names where, the message says why."""

    def __init__(self, message: str | dict[str, list[str]], *, field: str | None = None) -> None:
        if field and isinstance(message, str):
            super().__init__({field: [message]})
        else:
            super().__init__(message)


class InvalidTransition(ServiceError):
    """The record is not in a state that allows this change."""
