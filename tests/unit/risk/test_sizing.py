from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from ictbot.domain.market import Market
from ictbot.risk.limits import RiskLimits, SizingMode
from ictbot.risk.sizing import PositionSizer, SizeResult, SizingProblem
from tests.unit.risk.support import real_instrument

SIZER = PositionSizer()
BTC = real_instrument("BTCUSDT")
ETH = real_instrument("ETHUSDT")


def size(**overrides: object) -> SizeResult | SizingProblem:
    args: dict[str, object] = {
        "entry": Decimal("60000"), "stop": Decimal("59400"), "equity": Decimal("10000"), "limits": RiskLimits(),
        "instrument": BTC, "entry_is_maker": False, "market_order": True,
    }
    args.update(overrides)
    return SIZER.size(**args)  # type: ignore[arg-type]


def test_risk_percent_includes_entry_and_exit_fees_and_rounds_down_to_the_step() -> None:
    result = size()
    assert isinstance(result, SizeResult)
    # 1 % of 10 000 = 100; per unit: 600 distance + 60 taker entry fee + 59.4 taker stop fee = 719.4
    assert result.quantity == Decimal("0.13900")
    assert result.risk_amount == Decimal("0.13900") * Decimal("719.4")
    assert result.risk_amount <= Decimal(100)
    # one more step would break the budget: the rounding really went down
    assert (result.quantity + BTC.step_size) * Decimal("719.4") > Decimal(100)
    assert result.leverage == 1


def test_limit_entry_uses_the_maker_fee() -> None:
    limits = RiskLimits(maker_fee_rate=Decimal("0"), taker_fee_rate=Decimal("0.001"))
    result = size(limits=limits, entry_is_maker=True, market_order=False)
    assert isinstance(result, SizeResult)
    per_unit = Decimal(600) + Decimal("59.4")
    assert result.quantity == BTC.floor_qty(Decimal(100) / per_unit)


def test_without_fees_the_size_is_risk_over_distance() -> None:
    limits = RiskLimits(maker_fee_rate=Decimal(0), taker_fee_rate=Decimal(0))
    result = size(limits=limits)
    assert isinstance(result, SizeResult)
    assert result.quantity == Decimal("0.16666")


def test_step_size_comes_from_the_instrument() -> None:
    result = size(instrument=ETH, entry=Decimal("4000"), stop=Decimal("3960"))
    assert isinstance(result, SizeResult)
    per_unit = Decimal(40) + Decimal(4) + Decimal("3.96")
    assert result.quantity == Decimal("2.0850")  # floor(100 / 47.96) to 0.0001
    assert result.quantity * per_unit <= Decimal(100)


def test_fixed_notional_mode() -> None:
    limits = RiskLimits(sizing_mode=SizingMode.FIXED_NOTIONAL, fixed_notional=Decimal("1000"))
    result = size(limits=limits)
    assert isinstance(result, SizeResult)
    assert result.quantity == Decimal("0.01666")
    assert result.notional <= Decimal(1000)


def test_fixed_quantity_mode_and_a_quantity_off_the_step_grid() -> None:
    limits = RiskLimits(sizing_mode=SizingMode.FIXED_QUANTITY, fixed_quantity=Decimal("0.01"))
    result = size(limits=limits)
    assert isinstance(result, SizeResult) and result.quantity == Decimal("0.01")
    off_grid = RiskLimits(sizing_mode=SizingMode.FIXED_QUANTITY, fixed_quantity=Decimal("0.000015"))
    problem = size(limits=off_grid)
    assert isinstance(problem, SizingProblem) and "step" in problem.reason


def test_spot_is_capped_at_one_times_equity() -> None:
    result = size(stop=Decimal("59990"), limits=RiskLimits(taker_fee_rate=Decimal(0), maker_fee_rate=Decimal(0)))
    assert isinstance(result, SizeResult)
    assert result.quantity == Decimal("0.16666")  # 10 000 / 60 000, not 100 / 10 = 10 BTC
    assert result.leverage == 1


def test_futures_leverage_cap_and_reported_leverage() -> None:
    futures = replace(BTC, market=Market.USDM)
    limits = RiskLimits(max_leverage=3, taker_fee_rate=Decimal(0), maker_fee_rate=Decimal(0))
    result = size(stop=Decimal("59990"), limits=limits, instrument=futures)
    assert isinstance(result, SizeResult)
    assert result.quantity == Decimal("0.50000")  # 3 × 10 000 / 60 000
    assert result.leverage == 3
    spot = size(stop=Decimal("59990"), limits=limits)
    assert isinstance(spot, SizeResult) and spot.quantity == Decimal("0.16666")  # leverage never applies on spot


def test_fixed_size_beyond_the_cap_is_refused_not_shrunk() -> None:
    limits = RiskLimits(sizing_mode=SizingMode.FIXED_QUANTITY, fixed_quantity=Decimal("1"))
    problem = size(limits=limits)
    assert isinstance(problem, SizingProblem) and "leverage cap" in problem.reason


def test_exposure_headroom_shrinks_risk_sizing() -> None:
    result = size(max_notional=Decimal("3000"))
    assert isinstance(result, SizeResult)
    assert result.quantity == Decimal("0.05000")
    assert result.notional <= Decimal(3000)


@pytest.mark.parametrize(("entry", "stop", "equity"), [("60000", "60000", "10000"), ("60000", "59400", "0")])
def test_degenerate_inputs_are_problems(entry: str, stop: str, equity: str) -> None:
    assert isinstance(size(entry=Decimal(entry), stop=Decimal(stop), equity=Decimal(equity)), SizingProblem)


def test_size_that_rounds_to_zero_is_a_problem() -> None:
    problem = size(equity=Decimal("0.5"))
    assert isinstance(problem, SizingProblem) and "zero" in problem.reason


def test_tight_stop_sizing_loses_the_risk_budget_fees_included_when_stopped_out() -> None:
    """0.06 % stop at 0.1 % per side: the fees are 3.3x the price risk, and the size counts them.

    The position is bought and stopped out through ``Position.apply`` with the fees a venue charges;
    the realised loss is the risk budget (1 % of equity) to within one step of quantity.
    """
    from ictbot.domain.order import Fill, OrderSide
    from ictbot.domain.position import Position

    entry, stop, fee_rate = Decimal("100"), Decimal("99.94"), Decimal("0.001")
    limits = RiskLimits(max_leverage=20)
    result = size(entry=entry, stop=stop, equity=Decimal("100000"), instrument=real_instrument("ETHUSDT",
                                                                                            Market.USDM),
                  limits=limits)
    assert isinstance(result, SizeResult)
    budget = Decimal("1000")  # 1 % of 100,000
    per_unit = Decimal("0.06") + Decimal("0.1") + Decimal("0.09994")  # distance + entry fee + exit fee
    assert result.risk_amount == result.quantity * per_unit <= budget
    assert budget - result.risk_amount < ETH.step_size * per_unit

    def fill(side: OrderSide, price: Decimal, n: int) -> Fill:
        return Fill(trade_id=f"t{n}", client_order_id=f"c{n}", symbol="ETHUSDT", side=side, price=price,
                    qty=result.quantity, fee=price * result.quantity * fee_rate, fee_asset="USDT", time=n,
                    is_maker=False)

    position = Position(id="p", symbol="ETHUSDT", base_asset="ETH", quote_asset="USDT", market=Market.USDM,
                        strategy_id="s").apply(fill(OrderSide.BUY, entry, 1)).apply(fill(OrderSide.SELL, stop, 2))
    loss = -position.realized_pnl
    assert loss == result.risk_amount
    assert budget - ETH.step_size * per_unit < loss <= budget
    # without the fees in the size, the same stop-out would have lost 4.3x the budget
    naive_qty = budget / Decimal("0.06")
    assert naive_qty * per_unit > 4 * budget
