"""Binance error replies as one exception type: ``{"code": int, "msg": str}`` plus an HTTP status.

The codes and messages are the ones in binance-protocol.md Part A (A3, A5-A8, A12).
"""

from __future__ import annotations


class SimError(Exception):
    """A request the exchange refuses. ``retry_after`` (seconds) is set for 429/418 replies."""

    def __init__(self, code: int, msg: str, http_status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.retry_after = retry_after

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


def filter_failure(name: str) -> SimError:
    return SimError(-1013, f"Filter failure: {name}")


def mandatory(param: str) -> SimError:
    return SimError(-1102, f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed.")


def invalid_symbol() -> SimError:
    return SimError(-1121, "Invalid symbol.")


def new_order_rejected(msg: str) -> SimError:
    return SimError(-2010, msg)


DUPLICATE_ORDER = "Duplicate order sent."
INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
WOULD_TAKE = "Order would immediately match and take."
WOULD_TRIGGER = "Order would trigger immediately."
MARKET_CLOSED = "Market is closed."
OCO_PRICES = "The relationship of the prices for the orders is not correct."
UNKNOWN_ORDER = "Unknown order sent."
ORDER_NOT_EXIST = "Order does not exist."


def unknown_order_cancel() -> SimError:
    return SimError(-2011, UNKNOWN_ORDER)


def order_does_not_exist() -> SimError:
    return SimError(-2013, ORDER_NOT_EXIST)
