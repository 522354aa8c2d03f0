"""What the dashboard reads besides the ``TradingFacade``: the symbols' price and quantity steps.

A separate, optional port so the facade protocol stays as it is: the API serves ``GET /instruments``
only when the facade also implements ``MarketInfo`` (the pipeline's does).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict


class InstrumentView(BaseModel):
    """A symbol's filters the dashboard needs to show prices and quantities as the exchange does."""

    model_config = ConfigDict(frozen=True)
    symbol: str
    market: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal


@runtime_checkable
class MarketInfo(Protocol):
    async def instruments(self) -> list[InstrumentView]: ...
