"""Knobs of the matching engine (fees, synthetic book, fill realism, futures defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

D = Decimal


@dataclass(frozen=True, slots=True)
class MatchingConfig:
    maker_commission: Decimal = Decimal("0.001")
    taker_commission: Decimal = Decimal("0.001")
    futures_maker_commission: Decimal = Decimal("0.0002")
    futures_taker_commission: Decimal = Decimal("0.0005")
    slippage_bps: Decimal = Decimal(0)  # extra adverse price move on every taker fill, in basis points
    spread_ticks: int = 1  # ask = bid + spread_ticks × tick; bid = last price
    depth_levels: int = 20  # synthetic book levels each side
    level_gap_ticks: int = 1
    level_notional: Decimal = Decimal("250000")  # quote value per synthetic level (liquidity cap)
    fill_on_touch: bool = False  # resting limits fill when price only touches them
    participation: Decimal | None = None  # cap per path segment: participation × segment volume
    default_leverage: int = 20
    initial_balances: dict[str, Decimal] = field(default_factory=lambda: {"USDT": D("10000")})
    futures_initial_balances: dict[str, Decimal] = field(default_factory=lambda: {"USDT": D("10000")})
