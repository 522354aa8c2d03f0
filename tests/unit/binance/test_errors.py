"""Error translation per Binance code: retryable vs final."""

from __future__ import annotations

import json

import pytest

from ictbot.adapters.binance.errors import is_outcome_unknown, translate_error, translate_ws_api_error
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
from tests.conftest import FIXTURES, require_shared

CASES: list[tuple[int, int | None, str, type[ExchangeError]]] = [
    (429, -1003, "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.", RateLimitedError),
    (418, -1003, "Way too much request weight used; IP banned until 1659146400000.", RateLimitedError),
    (429, -1015, "Too many new orders; current limit is 50 orders per 10 SECOND.", RateLimitedError),
    (400, -1021, "Timestamp for this request is outside of the recvWindow.", TimestampError),
    (400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.", TimestampError),
    (400, -1013, "Filter failure: LOT_SIZE", FilterFailureError),
    (400, -1013, "Filter failure: PERCENT_PRICE_BY_SIDE", FilterFailureError),
    (400, -2010, "Filter failure: MAX_NUM_ORDERS", FilterFailureError),
    (400, -2010, "Account has insufficient balance for requested action.", InsufficientBalanceError),
    (400, -2010, "Duplicate order sent.", DuplicateOrderError),
    (400, -2010, "Order would immediately match and take.", FinalError),
    (400, -1121, "Invalid symbol.", UnknownSymbolError),
    (400, -2013, "Order does not exist.", OrderNotFoundError),
    (400, -2011, "Unknown order sent.", OrderNotFoundError),
    (
        400,
        -2026,
        "Order was canceled or expired with no executed qty over 90 days ago and has been archived.",
        OrderNotFoundError,
    ),
    (401, -2015, "Invalid API-key, IP, or permissions for action.", AuthenticationError),
    (400, -2014, "API-key format invalid.", AuthenticationError),
    (400, -1022, "Signature for this request is not valid.", AuthenticationError),
    (503, None, "Service Unavailable", NetworkError),
    (500, -1001, "Internal error; unable to process your request. Please try again.", NetworkError),
    (
        400,
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        NetworkError,
    ),
    (408, -1007, "Timeout waiting for response from backend server.", NetworkError),
    (400, -1100, "Illegal characters found in parameter 'quantity'", FinalError),
    (400, -4164, "Order's notional must be no smaller than 100 (unless you choose reduce only)", FilterFailureError),
]


@pytest.mark.parametrize(("status", "code", "msg", "expected"), CASES)
def test_translation(status: int, code: int | None, msg: str, expected: type[ExchangeError]) -> None:
    error = translate_error(status, code, msg, retry_after=7.0, where="POST /api/v3/order")
    assert type(error) is expected
    assert error.code == code and error.http_status == status
    assert msg in str(error) and "POST /api/v3/order" in str(error)


@pytest.mark.parametrize(("status", "code", "msg", "expected"), CASES)
def test_retryable_or_final(status: int, code: int | None, msg: str, expected: type[ExchangeError]) -> None:
    error = translate_error(status, code, msg)
    assert isinstance(error, RetryableError) != isinstance(error, FinalError)


def test_rate_limit_carries_retry_after() -> None:
    error = translate_error(429, -1003, "Too much request weight used", retry_after=12.0)
    assert isinstance(error, RateLimitedError) and error.retry_after == 12.0


def test_unknown_outcome_only_for_network_errors() -> None:
    assert is_outcome_unknown(translate_error(503, None, ""))
    assert not is_outcome_unknown(translate_error(400, -2010, "Duplicate order sent."))
    assert not is_outcome_unknown(translate_error(429, -1003, ""))


def test_cancel_restrictions_is_final_not_not_found() -> None:
    error = translate_error(400, -2011, "Order was not canceled due to cancel restrictions.")
    assert type(error) is FinalError


def test_documented_error_bodies() -> None:
    body = json.loads(require_shared(FIXTURES / "spot/rest/error_-1121_invalid_symbol.docs.json").read_text())
    assert isinstance(translate_error(400, body["code"], body["msg"]), UnknownSymbolError)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("wsapi_response_error_-2010.docs.json", InsufficientBalanceError),
        ("wsapi_response_error_-1003_ip_banned.docs.json", RateLimitedError),
    ],
)
def test_ws_api_error_envelopes(name: str, expected: type[ExchangeError]) -> None:
    envelope = json.loads(require_shared(FIXTURES / "spot/ws" / name).read_text())
    error = translate_ws_api_error(envelope["status"], envelope["error"])
    assert isinstance(error, expected)


def test_ws_api_ban_retry_after_is_epoch_ms() -> None:
    envelope = json.loads(
        require_shared(FIXTURES / "spot/ws/wsapi_response_error_-1003_ip_banned.docs.json").read_text()
    )
    error = translate_ws_api_error(envelope["status"], envelope["error"], server_now_ms=0)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == (1659146400000 - 1659142907531) / 1000  # the envelope's serverTime wins
    data = {k: v for k, v in envelope["error"]["data"].items() if k != "serverTime"}
    fallback = translate_ws_api_error(418, {**envelope["error"], "data": data}, server_now_ms=1659146400000 - 90_000)
    assert isinstance(fallback, RateLimitedError) and fallback.retry_after == 90.0
