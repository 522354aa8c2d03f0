"""Errors the execution service raises to its callers (the API maps them to HTTP codes)."""

from __future__ import annotations

from ictbot.domain.errors import IctbotError


class ExecutionError(IctbotError):
    """Base class of execution-service errors."""


class UnknownOrderError(ExecutionError):
    """No order with this client order id exists (API: 404)."""


class OrderNotOpenError(ExecutionError):
    """The order is already in a terminal state (API: 409)."""


class EntriesBlockedError(ExecutionError):
    """New entries are refused (not ready, breaker tripped, emergency stop, unprotected position)."""
