"""Translation of Binance error replies into ``ictbot.domain.errors`` (the only place codes are read).

Messages carry the endpoint, HTTP status, code and Binance's text, never the query string (which
holds the signature) nor any key.
"""

from __future__ import annotations

from ictbot.domain.errors import (
    AuthenticationError,
    DuplicateOrderError,
    ExchangeError,
    FilterFailureError,
    FinalError,
    InsufficientBalanceError,
    NetworkError,
    OrderNotFoundError,
    RateLimitedError,
    RetryableError,
    TimestampError,
    UnknownSymbolError,
)

# Status unknown: the request may or may not have been executed (rest-api.md "HTTP return codes").
_UNKNOWN_OUTCOME_CODES = frozenset({-1000, -1001, -1006, -1007})
_RATE_CODES = frozenset({-1003, -1015})
_AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
_NOT_FOUND_CODES = frozenset({-2013, -2026})
LISTEN_KEY_MISSING = -1125


def translate_error(
    http_status: int | None,
    code: int | None,
    msg: str,
    *,
    retry_after: float | None = None,
    where: str = "",
) -> ExchangeError:
    """Map one error reply to the project's hierarchy: retryable vs final."""
    text = f"{where}: " if where else ""
    text += f"HTTP {http_status} " if http_status is not None else ""
    text += f"[{code}] {msg}" if code is not None else msg
    lowered = msg.lower()

    if http_status in (418, 429) or code in _RATE_CODES:
        return RateLimitedError(text, code, http_status, retry_after)
    if code == -1021:
        return TimestampError(text, code, http_status)
    if code in _UNKNOWN_OUTCOME_CODES or code == -1008 or (http_status is not None and http_status >= 500):
        return NetworkError(text, code, http_status, retry_after)
    if http_status == 408:
        return NetworkError(text, code, http_status)
    if code in _AUTH_CODES or http_status == 401:
        return AuthenticationError(text, code, http_status)
    if code == -1121:
        return UnknownSymbolError(text, code, http_status)
    if code in _NOT_FOUND_CODES:
        return OrderNotFoundError(text, code, http_status)
    if code == -2011:
        if "cancel restrictions" in lowered:
            return FinalError(text, code, http_status)
        return OrderNotFoundError(text, code, http_status)
    if code == -1013 or "filter failure" in lowered:
        return FilterFailureError(text, code, http_status)
    if code == -2010 or code == -2019:
        if "duplicate order" in lowered:
            return DuplicateOrderError(text, code, http_status)
        if "insufficient" in lowered:
            return InsufficientBalanceError(text, code, http_status)
        return FinalError(text, code, http_status)
    if code == -4164:  # USD-M: notional below the minimum
        return FilterFailureError(text, code, http_status)
    return FinalError(text, code, http_status)


def translate_ws_api_error(
    status: int, error: dict[str, object], where: str = "", *, server_now_ms: int | None = None
) -> ExchangeError:
    """WebSocket API envelope ``{"status", "error": {"code", "msg", "data"?}}``.

    On 429/418 ``error.data.retryAfter`` is an **epoch ms** (not seconds as in REST); with the
    server clock it becomes ``retry_after`` seconds.
    """
    code = error.get("code")
    msg = str(error.get("msg", ""))
    retry_after = None
    data = error.get("data")
    if isinstance(data, dict) and isinstance(data.get("retryAfter"), int):
        reported_now = data.get("serverTime")
        now = reported_now if isinstance(reported_now, int) else server_now_ms
        if now is not None:
            retry_after = max(0.0, (int(data["retryAfter"]) - now) / 1000)
    return translate_error(status, code if isinstance(code, int) else None, msg, retry_after=retry_after, where=where)


def is_outcome_unknown(error: BaseException) -> bool:
    """True when a create/cancel may have been executed despite the error."""
    return isinstance(error, NetworkError)


__all__ = [
    "LISTEN_KEY_MISSING",
    "RetryableError",
    "is_outcome_unknown",
    "translate_error",
    "translate_ws_api_error",
]
