"""Order reports carry the order's own terms, so reconciliation can adopt an order it has no journal
entry for (crash between the request and the journal update)."""

from __future__ import annotations

import json
from decimal import Decimal

from ictbot.adapters.binance import parse
from ictbot.domain.order import OrderSide, OrderType
from tests.conftest import FIXTURES, require_shared


def test_rest_order_reply_reports_side_type_quantity_and_price() -> None:
    path = require_shared(FIXTURES / "spot" / "rest" / "query_order_ltcusdt_market_filled_20230323.real-ccxt.json")
    raw = json.loads(path.read_text())
    payload = raw.get("response", raw) if isinstance(raw, dict) else raw
    report = parse.order_report(payload)
    assert report.side is OrderSide(payload["side"])
    assert report.type is OrderType(payload["type"])
    assert report.quantity == Decimal(payload["origQty"])


def test_execution_report_reports_its_terms() -> None:
    path = require_shared(FIXTURES / "spot" / "ws" / "execution_report_new.docs.json")
    event = json.loads(path.read_text())["event"]
    report = parse.user_event(event)
    assert report is not None
    assert report.side is OrderSide(event["S"]) and report.type is OrderType(event["o"])
    assert report.quantity == Decimal(event["q"])
    if Decimal(event["p"]) > 0:
        assert report.price == Decimal(event["p"])
