"""The simulator configured from a domain Instrument publishes and enforces exactly its filters."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.exchange_sim import SimConfig
from ictbot.exchange_sim.core import Simulator
from ictbot.exchange_sim.engine.model import OrderRequest
from ictbot.exchange_sim.engine.validation import check_filters
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.market.synthetic import generate
from ictbot.exchange_sim.symbols import spec_from_instrument

ORIGIN = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000


def sol_with_btc_steps() -> Instrument:
    """SOLUSDT with a lot step no catalogue or price-level rule would give it (0.00001)."""
    return Instrument(
        symbol="SOLUSDT", base_asset="SOL", quote_asset="USDT", tick_size=D("0.01"), min_price=D("0.01"),
        max_price=D("1000000"), step_size=D("0.00001"), min_qty=D("0.00001"), max_qty=D("9000"),
        min_notional=D("5"), max_notional=D("9000000"),
    )


def test_spec_from_instrument_round_trips_every_filter() -> None:
    instrument = sol_with_btc_steps()
    back = spec_from_instrument(instrument).to_instrument()
    fields = ("symbol", "base_asset", "quote_asset", "market", "tick_size", "min_price", "max_price", "step_size",
              "min_qty", "max_qty", "market_step_size", "market_min_qty", "market_max_qty", "min_notional",
              "max_notional", "apply_min_to_market", "bid_multiplier_up", "bid_multiplier_down",
              "ask_multiplier_up", "ask_multiplier_down", "status")
    assert {f: getattr(back, f) for f in fields} == {f: getattr(instrument, f) for f in fields}


def test_simulator_trades_on_the_given_instrument_not_a_derived_one() -> None:
    series = {"SOLUSDT": generate("SOLUSDT", ORIGIN, 700, seed=1, start_price=150.0)}
    derived = Simulator(SimConfig(series=series, futures=False)).engine.spec(Market.SPOT, "SOLUSDT")
    instrument = sol_with_btc_steps()
    given = Simulator(SimConfig(series=series, futures=False, instruments=(instrument,)))
    spec = given.engine.spec(Market.SPOT, "SOLUSDT")
    assert derived.step_size != instrument.step_size  # what --via-live used to trade on
    assert (spec.tick_size, spec.step_size, spec.min_notional) == (D("0.01"), D("0.00001"), D("5"))
    assert given.replay.ticks["SOLUSDT"] == D("0.01")  # replayed prices sit on the same tick grid


def test_a_zero_percent_price_multiplier_is_no_bound() -> None:
    unbounded = spec_from_instrument(sol_with_btc_steps())  # multipliers 0
    far = OrderRequest("SOLUSDT", "SELL", "LIMIT", quantity=D("1"), price=D("5000"), time_in_force="GTC")
    check_filters(unbounded, far, D("150"))
    bounded = replace(unbounded, ask_multiplier_up=D("5"))
    with pytest.raises(SimError, match="PERCENT_PRICE_BY_SIDE"):
        check_filters(bounded, far, D("150"))
