"""The project's error hierarchy.

Exchange errors are translated at the edge (adapters) into ``RetryableError`` or ``FinalError``
so that no stage ever inspects a vendor error code.
"""

from __future__ import annotations


class IctbotError(Exception):
    """Base class of every error the project raises on purpose."""


class DomainError(IctbotError):
    """A domain rule was broken (programming error or corrupted input)."""


class IllegalTransitionError(DomainError):
    """An order received an event that its current state does not allow."""


class DuplicateFillError(DomainError):
    """A fill with an already applied trade id was applied again."""


class ConfigError(IctbotError):
    """Configuration is invalid. ``errors`` lists (field path, reason) pairs."""

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        self.errors: list[tuple[str, str]] = errors or []
        detail = "; ".join(f"{field}: {reason}" for field, reason in self.errors)
        super().__init__(f"{message}: {detail}" if detail else message)


class InputDataError(IctbotError):
    """A data file or payload is malformed. Names the source and, where known, the line."""

    def __init__(self, source: str, reason: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


class StartupError(IctbotError):
    """The orchestrator could not start (cycle, missing dependency, failed service)."""


class ExchangeError(IctbotError):
    """An error reported by, or while talking to, an exchange."""

    def __init__(self, message: str, code: int | None = None, http_status: int | None = None) -> None:
        self.code = code
        self.http_status = http_status
        super().__init__(message)


class RetryableError(ExchangeError):
    """Transient: network, timeout, 5xx, rate limit, timestamp outside recvWindow."""

    def __init__(
        self,
        message: str,
        code: int | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, code, http_status)


class NetworkError(RetryableError):
    """Connection failure or timeout; for an order create the outcome is unknown."""


class RateLimitedError(RetryableError):
    """HTTP 429 / -1003 or 418 (IP ban): wait ``retry_after`` seconds."""


class TimestampError(RetryableError):
    """-1021: request timestamp outside recvWindow; resync the server time offset."""


class FinalError(ExchangeError):
    """Permanent for this request: resending the same request cannot succeed."""


class InsufficientBalanceError(FinalError):
    """-2010 with an insufficient-balance message."""


class DuplicateOrderError(FinalError):
    """-2010 duplicate client order id while the first order is still open."""


class FilterFailureError(FinalError):
    """-1013 and friends: price/quantity/notional outside the symbol's filters."""


class UnknownSymbolError(FinalError):
    """-1121 invalid symbol."""


class OrderNotFoundError(FinalError):
    """-2013 / -2011: the order does not exist (or is no longer cancelable)."""


class AuthenticationError(FinalError):
    """-2014 / -2015 / -1022: key, permissions or signature rejected."""
