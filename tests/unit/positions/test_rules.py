"""Stop rules: breakeven, trailing, never loosening; breach detection."""

from __future__ import annotations

from decimal import Decimal

from ictbot.domain.position import Position
from ictbot.positions import StopRules, breached, next_stop

D = Decimal


def long_position(stop: str = "49000") -> Position:
    return Position(id="p", symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", qty=D("1"),
                    avg_entry=D("50000"), stop_loss=D(stop), take_profits=(D("53000"),))


def short_position() -> Position:
    return Position(id="p", symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", qty=D("-1"),
                    avg_entry=D("50000"), stop_loss=D("51000"), take_profits=(D("47000"),))


def test_breakeven_moves_the_stop_to_entry_at_one_r() -> None:
    rules = StopRules(breakeven_at_r=D(1))
    assert next_stop(long_position(), D("50900"), D("1000"), rules) is None
    assert next_stop(long_position(), D("51000"), D("1000"), rules) == D("50000")
    assert next_stop(short_position(), D("49000"), D("1000"), rules) == D("50000")


def test_trailing_follows_the_price_and_never_loosens() -> None:
    rules = StopRules(breakeven_at_r=None, trail_at_r=D("1.5"), trail_distance=D("0.01"))
    assert next_stop(long_position(), D("52000"), D("1000"), rules) == D("51480")
    assert next_stop(long_position("51480"), D("51600"), D("1000"), rules) is None  # would loosen
    assert next_stop(short_position(), D("48000"), D("1000"), rules) == D("48480")


def test_tiny_moves_are_skipped() -> None:
    rules = StopRules(breakeven_at_r=D(1), min_move=D("0.01"))
    assert next_stop(long_position("49900"), D("51000"), D("1000"), rules) is None


def test_breach_of_stop_or_last_target() -> None:
    assert breached(long_position(), D("49000")) is not None
    assert breached(long_position(), D("50000")) is None
    assert breached(long_position(), D("53000")) is not None
    assert breached(short_position(), D("51500")) is not None
