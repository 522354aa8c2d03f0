"""Parsing the recorded Binance payloads (spot + USD-M, REST + WS) into domain objects."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ictbot.adapters.binance import parse
from ictbot.adapters.binance.ratelimit import LimitKind, RateLimitRule
from ictbot.domain.errors import InputDataError
from ictbot.domain.market import Market
from ictbot.domain.order import OrderSide, OrderStatus
from ictbot.domain.timeframe import Timeframe
from tests.conftest import FIXTURES, require_shared


def load(rel: str) -> Any:
    return json.loads(require_shared(FIXTURES / rel).read_text())


def unwrap(payload: Any) -> Any:
    """Strip recorder wrappers: WS-API ``{"event"}`` and test-file ``{"stream","data"}``."""
    if isinstance(payload, dict) and "event" in payload and "subscriptionId" in payload:
        return payload["event"]
    if isinstance(payload, dict) and "data" in payload and "stream" in payload:
        return payload["data"]
    return payload


# ---- exchangeInfo ------------------------------------------------------------------------------
def test_spot_exchange_info_real_2021() -> None:
    instruments = parse.instruments(load("spot/rest/exchange_info_btcusdt_ethusdt_20211022.real.json"))
    btc = instruments["BTCUSDT"]
    assert (btc.base_asset, btc.quote_asset, btc.market) == ("BTC", "USDT", Market.SPOT)
    assert btc.tick_size == Decimal("0.01") and btc.min_price == Decimal("0.01")
    assert btc.step_size == Decimal("0.00001") and btc.min_qty == Decimal("0.00001")
    assert btc.max_qty == Decimal("9000")
    assert btc.market_max_qty == Decimal("112.21108820") and btc.market_step_size == 0
    assert btc.min_notional == Decimal("10") and btc.apply_min_to_market
    assert btc.bid_multiplier_up == Decimal("5") and btc.ask_multiplier_down == Decimal("0.2")
    assert btc.oco_allowed and "STOP_LOSS_LIMIT" in btc.order_types
    assert btc.order_problems(Decimal("60000.00"), Decimal("0.001")) == []
    assert btc.order_problems(Decimal("60000.005"), Decimal("0.000015"))  # off tick and step


def test_spot_exchange_info_full_real_parses_every_symbol() -> None:
    instruments = parse.instruments(load("spot/rest/exchange_info_full_20211012.real.json"))
    assert len(instruments) > 1000
    assert all(i.tick_size > 0 and i.step_size > 0 for i in instruments.values() if i.status == "TRADING")


def test_rate_limits_from_exchange_info() -> None:
    payload = load("spot/rest/exchange_info_btcusdt_ethusdt_20211022.real.json")
    rules = [RateLimitRule.from_exchange(raw) for raw in payload["rateLimits"]]
    assert RateLimitRule(LimitKind.REQUEST_WEIGHT, 60_000, 1200) in rules
    assert RateLimitRule(LimitKind.ORDERS, 10_000, 50) in rules
    assert RateLimitRule(LimitKind.RAW_REQUESTS, 300_000, 6100) in rules


def test_current_filter_objects_from_docs() -> None:
    filters = [
        load(f"spot/rest/exchange_info_filter_{name}.docs.json")
        for name in ("PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL", "PERCENT_PRICE_BY_SIDE")
    ]
    symbol = {"symbol": "XUSDT", "baseAsset": "X", "quoteAsset": "USDT", "filters": filters}
    inst = parse.instruments({"symbols": [symbol]})["XUSDT"]
    assert inst.tick_size == Decimal("0.000001") and inst.max_price == Decimal("100000")
    assert inst.step_size == Decimal("0.001") and inst.market_step_size == Decimal("0.001")
    assert inst.min_notional == Decimal("10") and inst.max_notional == Decimal("10000")
    assert inst.apply_min_to_market is False
    assert (inst.bid_multiplier_up, inst.bid_multiplier_down) == (Decimal("1.2"), Decimal("0.2"))
    assert (inst.ask_multiplier_up, inst.ask_multiplier_down) == (Decimal("5"), Decimal("0.8"))
    assert any("maxNotional" in p for p in inst.notional_problems(Decimal("1"), Decimal("20000")))


def test_futures_exchange_info_real() -> None:
    instruments = parse.instruments(
        load("futures/rest/exchange_info_btcusdt_ethusdt_btcusdt220325_20220219.real.json"), Market.USDM
    )
    btc = instruments["BTCUSDT"]
    assert btc.market is Market.USDM
    assert btc.tick_size == Decimal("0.10") and btc.min_price == Decimal("402")
    assert btc.step_size == Decimal("0.001") and btc.market_max_qty == Decimal("1000")
    assert btc.min_notional == Decimal("10")  # USD-M MIN_NOTIONAL field is "notional"
    assert btc.bid_multiplier_up == Decimal("1.1000")
    full = parse.instruments(load("futures/rest/exchange_info_full_20210721.real.json"), Market.USDM)
    assert len(full) > 100


# ---- klines -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "rel",
    [
        "spot/rest/klines_btcusdt_1m_20211022.real.json",
        "spot/rest/klines_btcusdt_1h_20240130.real-ccxt.json",
        "futures/rest/klines_btcusdt_1m_20240410.real-ccxt.json",
        "spot/rest/klines.docs.json",
    ],
)
def test_rest_klines(rel: str) -> None:
    rows = load(rel)
    tf = Timeframe.H1 if "_1h_" in rel else Timeframe.M1
    if rel.endswith("klines.docs.json"):
        tf = Timeframe.parse("1m") if rows[0][6] - rows[0][0] + 1 == 60_000 else tf
    last_close = int(rows[-1][6])
    candles = parse.candles_from_rows(rows, "BTCUSDT", tf, server_now_ms=last_close)  # last still open
    assert len(candles) == len(rows)
    assert candles[0].open == Decimal(str(rows[0][1])) and candles[0].volume == Decimal(str(rows[0][5]))
    assert candles[0].trades == int(rows[0][8])
    assert [c.closed for c in candles] == [True] * (len(rows) - 1) + [False]
    later = parse.candles_from_rows(rows, "BTCUSDT", tf, server_now_ms=last_close + 1)
    assert later[-1].closed


def test_malformed_kline_row_is_input_error() -> None:
    with pytest.raises(InputDataError):
        parse.candles_from_rows([[1, "x"]], "BTCUSDT", Timeframe.M1, 0)


@pytest.mark.parametrize(
    ("rel", "closed", "market"),
    [
        ("spot/ws/combined_kline_1m_open_nknusdt_20211012.real.json", False, Market.SPOT),
        ("spot/ws/combined_kline_1m_closed_omgbusd_binanceus_20211012.real.json", True, Market.SPOT),
        ("futures/ws/combined_kline_1m_closed_sushiusdt_20210722.real.json", True, Market.USDM),
        ("futures/ws/combined_kline_1m_open_ctkusdt_20210722.real.json", False, Market.USDM),
        ("spot/ws/kline.docs.json", False, Market.SPOT),
    ],
)
def test_ws_klines(rel: str, closed: bool, market: Market) -> None:
    payload = load(rel)
    candle = parse.candle_from_ws(parse.ws_kline(payload), market)
    k = payload.get("data", payload)["k"]
    assert candle.closed is closed and candle.market is market
    assert candle.open_time == k["t"] and candle.close == Decimal(k["c"]) and candle.low == Decimal(k["l"])
    assert candle.symbol == k["s"] and candle.timeframe.value == k["i"]


# ---- orders -------------------------------------------------------------------------------------
def test_new_order_full_with_fills() -> None:
    report = parse.order_report(load("spot/rest/new_order_full.docs.json"))
    assert report.status is OrderStatus.FILLED and report.exchange_order_id == "28"
    assert report.executed_qty == Decimal("10") and len(report.fills) == 5
    fill = report.fills[1]
    assert (fill.trade_id, fill.price, fill.qty, fill.fee, fill.fee_asset) == (
        "57",
        Decimal("3999"),
        Decimal("5"),
        Decimal("19.995"),
        "USDT",
    )
    assert fill.side is OrderSide.SELL and fill.client_order_id == "6gCrw2kRUAF9CvJDGP16IP"
    assert sum(f.qty for f in report.fills) == report.executed_qty


@pytest.mark.parametrize(
    ("rel", "status"),
    [
        ("spot/rest/new_order_ack.docs.json", None),
        ("spot/rest/new_order_result.docs.json", None),
        ("spot/rest/new_order_full_solusdt_limit_resting_20250123.real-ccxt.json", OrderStatus.NEW),
        ("spot/rest/query_order.docs.json", None),
        ("spot/rest/query_order_ltcusdt_market_filled_20230323.real-ccxt.json", OrderStatus.FILLED),
        ("futures/rest/new_order.docs.json", OrderStatus.NEW),
        ("futures/rest/query_order.docs.json", None),
        ("futures/rest/query_order_ltcusdt_gtx_20240214.real-ccxt.json", None),
    ],
)
def test_order_replies(rel: str, status: OrderStatus | None) -> None:
    payload = load(rel)
    report = parse.order_report(payload)
    assert report.client_order_id == payload["clientOrderId"]
    assert report.exchange_order_id == str(payload["orderId"])
    if status is not None:
        assert report.status is status
    if "status" not in payload:  # ACK: accepted, nothing more known
        assert report.status is OrderStatus.NEW and report.executed_qty == 0


def test_cancel_reply_names_the_original_client_id() -> None:
    report = parse.order_report(load("spot/rest/cancel_order.docs.json"))
    assert report.client_order_id == "myOrder1" and report.status is OrderStatus.CANCELED


def test_open_orders_lists() -> None:
    for rel in (
        "spot/rest/open_orders.docs.json",
        "spot/rest/open_orders_ltcusdt_20231107.real-ccxt.json",
        "spot/rest/all_orders_ltcusdt_canceled_20231206.real-ccxt.json",
    ):
        reports = [parse.order_report(row) for row in load(rel)]
        assert reports and all(r.symbol for r in reports)


def test_oco_order_list() -> None:
    reports = parse.order_list_reports(load("spot/rest/order_list_oco_new.docs.json"))
    assert [r.client_order_id for r in reports] == ["44nZvqpemY7sVYgPYbvPih", "NuMp0nVYnciDiFmVqfpBqK"]
    assert all(r.list_client_id == "lH1YDkuQKWiXVXHPSKYEIp" and r.status is OrderStatus.NEW for r in reports)


def test_futures_algo_orders() -> None:
    report = parse.algo_order_report(load("futures/rest/new_algo_order.docs-derived.json"))
    assert report.client_order_id == "6B2I9XVcJpCjqPAJ4YoFX7" and report.status is OrderStatus.NEW
    assert report.exchange_order_id == "algo:2146760"
    listed = [parse.algo_order_report(row) for row in load("futures/rest/open_algo_orders.synthetic.json")]
    assert listed[0].client_order_id == "test-algo-order-1"


def test_batch_orders_real() -> None:
    rows = load("futures/rest/batch_orders_new_btcusdt_20250217.real-ccxt.json")
    reports = [parse.order_report(row) for row in rows]
    assert all(r.symbol == "BTCUSDT" for r in reports)


# ---- trades / account ---------------------------------------------------------------------------
def test_spot_my_trades_real_stringified_numbers() -> None:
    raw = parse.trades(load("spot/rest/my_trades_ltcusdt_20231024.real-ccxt.json"))
    fill = parse.fill_from_trade(raw[0], "cid")
    assert fill.trade_id == "309520010" and fill.side is OrderSide.SELL and fill.price == Decimal("69.63")
    assert fill.fee == Decimal("0.013926") and fill.time == 1698138992358 and not fill.is_maker


def test_futures_user_trades_real() -> None:
    raw = parse.trades(load("futures/rest/user_trades_ethusdt_20220227.real.json"))
    fill = parse.fill_from_trade(raw[0], "cid")
    assert fill.side is OrderSide.SELL and fill.qty == Decimal("0.005") and fill.fee_asset == "USDT"
    docs = parse.trades(load("futures/rest/user_trades.docs.json"))
    assert docs and parse.fill_from_trade(docs[0], "x").side is (
        OrderSide.BUY if load("futures/rest/user_trades.docs.json")[0]["buyer"] else OrderSide.SELL
    )


def test_spot_account_balances() -> None:
    balances = parse.spot_balances(load("spot/rest/account_20231206.real-ccxt.json"))
    assert balances["LTC"].free == Decimal("0.919741") and balances["LTC"].locked == 0
    docs = parse.spot_balances(load("spot/rest/account.docs.json"))
    assert docs


def test_futures_account_and_positions() -> None:
    balances = parse.futures_balances(load("futures/rest/account_v3_20240728.real-ccxt.json"))
    assert balances["FDUSD"].free == Decimal("18.46663722") and balances["FDUSD"].locked >= 0
    positions = parse.positions(load("futures/rest/position_risk_v3_btcusdt_20240728.real-ccxt.json"))
    assert positions[0].symbol == "BTCUSDT" and positions[0].qty == Decimal("0.009")
    assert positions[0].entry_price == Decimal("67445.9")
    one_way = parse.positions(load("futures/rest/position_risk_v3_one_way.docs.json"))
    assert one_way[0].qty == Decimal("30")


# ---- user data stream ---------------------------------------------------------------------------
EXEC_REPORTS = (
    sorted(p.name for p in (FIXTURES / "spot/ws").glob("execution_report_*.json")) if FIXTURES.exists() else []
)


@pytest.mark.parametrize("name", EXEC_REPORTS)
def test_every_execution_report_parses(name: str) -> None:
    event = unwrap(load(f"spot/ws/{name}"))
    report = parse.user_event(event)
    assert report is not None
    assert report.symbol == event["s"] and report.executed_qty == Decimal(event["z"])
    assert report.exchange_order_id == str(event["i"])
    assert bool(report.fills) == (event["x"] == "TRADE")


def test_execution_report_trade_fill_real() -> None:
    report = parse.user_event(unwrap(load("spot/ws/execution_report_trade_filled_binanceus_20251001.real.json")))
    assert report is not None and report.status is OrderStatus.FILLED
    fill = report.fills[0]
    assert (fill.trade_id, fill.price, fill.qty, fill.fee, fill.fee_asset, fill.time) == (
        "88685053",
        Decimal("117290.77"),
        Decimal("0.00042"),
        Decimal("0.00492621"),
        "USD",
        1759347763167,
    )
    assert report.cumulative_quote == Decimal("49.26212340") and fill.client_order_id == "T0ESHzso0banw0QiPFZYgj"


def test_execution_report_cancel_uses_original_client_id() -> None:
    event = dict(unwrap(load("spot/ws/execution_report_canceled.synthetic.json")), c="cancelReq1", C="myOrder1")
    report = parse.user_event(event)
    assert report is not None and report.client_order_id == "myOrder1" and report.status is OrderStatus.CANCELED


def test_non_order_events_give_no_report() -> None:
    for rel in (
        "spot/ws/outbound_account_position.docs.json",
        "spot/ws/balance_update.docs.json",
        "spot/ws/list_status.docs.json",
        "futures/ws/account_update.docs.json",
        "futures/ws/trade_lite_ethusdt_20240930.real.json",
    ):
        assert parse.user_event(unwrap(load(rel))) is None


@pytest.mark.parametrize(
    ("rel", "status", "fills"),
    [
        ("futures/ws/order_trade_update_trade_filled_btcusdt_20210114.real.json", OrderStatus.FILLED, 1),
        ("futures/ws/order_trade_update_new_solusdt_20260521.real.json", OrderStatus.NEW, 0),
        ("futures/ws/order_trade_update_trade_partially_filled.derived.json", OrderStatus.PARTIALLY_FILLED, 1),
        ("futures/ws/order_trade_update_new_trailing_stop.docs.json", OrderStatus.NEW, 0),
    ],
)
def test_futures_order_trade_update(rel: str, status: OrderStatus, fills: int) -> None:
    event = unwrap(load(rel))
    report = parse.user_event(event)
    assert report is not None and report.status is status and len(report.fills) == fills
    assert report.client_order_id == event["o"]["c"]


def test_futures_fill_values_real() -> None:
    report = parse.user_event(load("futures/ws/order_trade_update_trade_filled_btcusdt_20210114.real.json"))
    assert report is not None
    fill = report.fills[0]
    assert (fill.price, fill.qty, fill.fee, fill.trade_id) == (
        Decimal("39849.93"),
        Decimal("1"),
        Decimal("15.939972"),
        "154402974",
    )
    assert report.cumulative_quote == Decimal("39849.93000")


@pytest.mark.parametrize(
    ("rel", "status"),
    [
        ("futures/ws/algo_update_triggering_dogeusdt_20251211.real.json", OrderStatus.NEW),
        ("futures/ws/algo_update_triggered_dogeusdt_20251211.real.json", OrderStatus.NEW),
        ("futures/ws/algo_update_finished_dogeusdt_20251211.real.json", OrderStatus.FILLED),
        ("futures/ws/algo_update_finished_not_filled_dogeusdt.derived.json", OrderStatus.EXPIRED),
        ("futures/ws/algo_update_canceled.docs.json", OrderStatus.CANCELED),
        ("futures/ws/algo_update_new.derived.json", OrderStatus.NEW),
    ],
)
def test_futures_algo_update(rel: str, status: OrderStatus) -> None:
    event = unwrap(load(rel))
    report = parse.user_event(event)
    assert report is not None and report.status is status and report.client_order_id == event["o"]["caid"]


def test_unexpected_payload_is_input_error() -> None:
    with pytest.raises(InputDataError):
        parse.order_report({"symbol": "X"})


def test_fixtures_dir_exists() -> None:
    assert isinstance(FIXTURES, Path)


def test_triggered_algo_update_names_its_matching_engine_order() -> None:
    report = parse.user_event(unwrap(load("futures/ws/algo_update_triggered_dogeusdt_20251211.real.json")))
    assert report is not None and parse.algo_child_order_id(report) == "88937381063"
    finished = parse.user_event(unwrap(load("futures/ws/algo_update_finished_dogeusdt_20251211.real.json")))
    assert finished is not None and finished.executed_qty == Decimal("38")
    assert finished.cumulative_quote == Decimal("0.13856") * 38
