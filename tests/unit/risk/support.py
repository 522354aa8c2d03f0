"""Test helpers for risk: real Binance filters from a recorded exchangeInfo, an in-memory store."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, EntryType, Signal
from tests.conftest import FIXTURES

EXCHANGE_INFO = FIXTURES / "spot" / "rest" / "exchange_info_btcusdt_ethusdt_20211022.real.json"


def _instrument_from(raw: dict[str, Any], market: Market) -> Instrument:
    filters = {f["filterType"]: f for f in raw["filters"]}
    price, lot = filters.get("PRICE_FILTER", {}), filters.get("LOT_SIZE", {})
    market_lot = filters.get("MARKET_LOT_SIZE", {})
    notional = filters.get("MIN_NOTIONAL") or filters.get("NOTIONAL") or {}

    def dec(block: dict[str, Any], key: str) -> Decimal:
        return Decimal(str(block.get(key, "0")))

    return Instrument(
        symbol=raw["symbol"], base_asset=raw["baseAsset"], quote_asset=raw["quoteAsset"], market=market,
        tick_size=dec(price, "tickSize"), min_price=dec(price, "minPrice"), max_price=dec(price, "maxPrice"),
        step_size=dec(lot, "stepSize"), min_qty=dec(lot, "minQty"), max_qty=dec(lot, "maxQty"),
        market_step_size=dec(market_lot, "stepSize"), market_min_qty=dec(market_lot, "minQty"),
        market_max_qty=dec(market_lot, "maxQty"), min_notional=dec(notional, "minNotional"),
        apply_min_to_market=bool(notional.get("applyToMarket", True)), status=raw["status"],
        order_types=tuple(raw.get("orderTypes", ())),
    )


@cache
def real_instrument(symbol: str = "BTCUSDT", market: Market = Market.SPOT) -> Instrument:
    # Test modules call this at import time: without ../shared they are skipped with the reason
    # (allow_module_level), not reported as a collection error.
    if not EXCHANGE_INFO.exists():
        pytest.skip(f"shared data {EXCHANGE_INFO} not present", allow_module_level=True)
    data = json.loads(EXCHANGE_INFO.read_text())
    for raw in data["symbols"]:
        if raw["symbol"] == symbol:
            return _instrument_from(raw, market)
    raise KeyError(symbol)


class MemoryKeyValueStore:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.writes = 0

    async def get(self, key: str) -> str | None:
        return self.data.get(key)

    async def set(self, key: str, value: str) -> None:
        self.writes += 1
        self.data[key] = value

    async def delete(self, key: str) -> None:
        self.data.pop(key, None)


def make_signal(
    *, direction: Direction = Direction.LONG, entry: str = "60000", stop: str = "59400", targets: tuple[str, ...] = (
        "61800",), entry_type: EntryType = EntryType.MARKET, symbol: str = "BTCUSDT", time: int = 1_700_000_000_000,
    strategy_id: str = "strategy_a",
) -> Signal:
    return Signal(
        strategy_id=strategy_id, symbol=symbol, direction=direction, entry_type=entry_type,
        stop_loss=Decimal(stop), take_profits=tuple(Decimal(t) for t in targets), time=time,
        entry_price=Decimal(entry) if entry_type is EntryType.LIMIT else None,
        reference_price=Decimal(entry),
    )


def open_position(symbol: str = "BTCUSDT", qty: str = "0.1", entry: str = "60000", pid: str = "p1",
                  strategy_id: str = "strategy_a") -> Position:
    base = symbol.removesuffix("USDT")
    return Position(id=pid, symbol=symbol, base_asset=base, quote_asset="USDT", strategy_id=strategy_id,
                    qty=Decimal(qty), avg_entry=Decimal(entry), trade_ids=frozenset({f"{pid}-t1"}),
                    opened_at=1_699_999_000_000, entry_qty_total=abs(Decimal(qty)))
