"""Ids the backtest shares with live trading must not depend on how a price is spelled."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from ictbot.bus.codec import to_jsonable
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.execution.ids import entry_client_id


def _signal(stop: str, target: str, time: int = 1) -> Signal:
    return Signal("s2_fvg", "BTCUSDT", Direction.LONG, EntryType.MARKET, Decimal(stop), (Decimal(target),), time,
                  reference_price=Decimal("100"))


def test_file_and_venue_spellings_of_a_price_give_one_signal_and_order_id() -> None:
    from_file = _signal("61720.0", "62000.1")  # repr(float) of a CSV price
    from_venue = _signal("61720.00000000", "62000.10000000")  # Binance's 8-decimal strings
    assert from_file.id == from_venue.id
    assert entry_client_id("s2_fvg", from_file.id) == entry_client_id("s2_fvg", from_venue.id)
    assert _signal("61720.01", "62000.1").id != from_file.id  # a different price is a different idea
    assert dataclasses.replace(from_file, time=2).id != from_file.id  # the cache is not copied


def test_the_cached_id_is_not_part_of_the_signal_on_the_wire() -> None:
    signal = _signal("61720.0", "62000.1")
    first = signal.id
    assert signal.id == first
    assert "_cached_id" not in to_jsonable(signal)
    assert [f.name for f in dataclasses.fields(signal)][-1] == "metadata"
