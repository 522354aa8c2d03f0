from __future__ import annotations

from decimal import Decimal

import pytest

from ictbot.bus import Topic
from ictbot.bus.codec import decode, encode
from ictbot.domain.candle import Candle
from ictbot.domain.events import (
    Alert,
    AlertLevel,
    CandleStored,
    ConfigUpdated,
    IndicatorsUpdated,
    OrderExecuted,
    OrderIntent,
    PositionUpdated,
    SignalValidated,
)
from ictbot.domain.ict import IctEvent, IndicatorSnapshot, Leg, LiquidityLevel, TimeframeView, Zone
from ictbot.domain.order import Fill, Order, OrderAccepted, OrderFilled, OrderSide, OrderType
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.domain.timeframe import Timeframe

D = Decimal
CANDLE = Candle("BTCUSDT", Timeframe.M5, 1_700_000_100_000, D("1.10"), D("2.5"), D("1"), D("2.00"), D("10.125"))
FILL = Fill("t1", "cid", "BTCUSDT", OrderSide.BUY, D("100.10"), D("0.5"), D("0.0005"), "BTC", 7)
SIGNAL = Signal("strategy_a", "BTCUSDT", Direction.LONG, EntryType.LIMIT, D("90"), (D("120"), D("130")), 5,
                entry_price=D("100"), reason=("sweep", "fvg"))


def order() -> Order:
    base = Order("cid", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D("1"), 1, price=D("100.10"))
    return base.apply(OrderAccepted("42", 2)).apply(OrderFilled(FILL))


def snapshot() -> IndicatorSnapshot:
    event = IctEvent("5m:fvg:-:1:2:0", "fvg", 1, "5m", 3, 4, 1, 2, top=2.5, bottom=1.5, extra={"ce": 2.0})
    zone = Zone("z", "fvg", 1, "5m", 2.5, 1.5, 1, 2, extra={"ce": 2.0})
    view = TimeframeView("5m", 2, 2.0, trend=1, atr=0.5, fvgs=(zone,), recent_events=(event,),
                         liquidity=(LiquidityLevel("l", 1, 3.0, "swing", "5m", 2),),
                         leg=Leg("g", 1, "5m", 1.0, 3.0, 1, 2, 2.2, 1.4, 1.6), dealing_range=(3.0, 1.0))
    return IndicatorSnapshot("BTCUSDT", 2, "5m", {"5m": view}, active_windows=("london_killzone",))


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        (Topic.CANDLE_STORED, CandleStored(CANDLE)),
        (Topic.ALERT, Alert(AlertLevel.CRITICAL, "risk", "halted", {"reason": "daily loss"})),
        (Topic.CONFIG_UPDATED, ConfigUpdated(3, "strategies", {"strategy_a": {"enabled": False}})),
        (Topic.ORDER_EXECUTED, OrderExecuted(order(), FILL)),
        (Topic.POSITION_UPDATED, PositionUpdated(Position("p", "BTCUSDT", "BTC", "USDT").apply(FILL), D("101"))),
        (Topic.SIGNAL_VALIDATED,
         SignalValidated(OrderIntent(SIGNAL, D("0.01"), D("100"), D("90"), (D("120"),), D("1")))),
        (Topic.INDICATORS_UPDATED, IndicatorsUpdated(snapshot(), CANDLE)),
    ],
)
def test_round_trip_is_lossless(topic: Topic, payload: object) -> None:
    decoded_topic, decoded = decode(encode(topic, payload))
    assert decoded_topic is topic
    assert decoded == payload


def test_decimals_travel_as_strings_so_no_precision_is_lost() -> None:
    data = encode(Topic.CANDLE_STORED, CandleStored(CANDLE))
    assert b'"open":"1.10"' in data and b'"volume":"10.125"' in data


def test_a_malformed_payload_is_refused() -> None:
    with pytest.raises((TypeError, ValueError, KeyError)):
        decode(b'{"topic":"candle_stored","payload":{"candle":{"symbol":"BTCUSDT","timeframe":"7m"}}}')
