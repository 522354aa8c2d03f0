"""Errors raised to callers of the position services (the API maps them to HTTP codes)."""

from __future__ import annotations

from ictbot.domain.errors import IctbotError


class PositionError(IctbotError):
    """Base class of position-service errors."""


class PositionNotFoundError(PositionError):
    """No position with this id exists (API: 404)."""


class PositionAlreadyClosedError(PositionError):
    """The position exists but is already closed (API: 409)."""
