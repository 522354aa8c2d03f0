"""USD-M conditional (algo) orders: ``POST /fapi/v1/algoOrder`` stops and take-profits that wait off
the book and, when the mark path reaches their trigger, place a MARKET or LIMIT child order."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine.batch import Batch
from ictbot.exchange_sim.engine.model import AlgoEvent, AlgoOrder, OrderRequest
from ictbot.exchange_sim.engine.triggers import would_trigger
from ictbot.exchange_sim.engine.validation import check_filters
from ictbot.exchange_sim.errors import MARKET_CLOSED, SimError, mandatory, new_order_rejected
from ictbot.exchange_sim.symbols import SymbolSpec

if TYPE_CHECKING:
    from ictbot.exchange_sim.engine.matching import MatchingEngine

ZERO = Decimal(0)
ALGO_TYPES = frozenset({"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"})
FIRST_ALGO_ID = 1000000001


def check_algo(spec: SymbolSpec, req: OrderRequest, trigger_price: Decimal | None, last: Decimal) -> Decimal:
    """The request's shape, filters and trigger rules; returns the trigger price or raises ``SimError``."""
    if spec.status != "TRADING":
        raise new_order_rejected(MARKET_CLOSED)
    if req.type not in ALGO_TYPES:
        raise SimError(-1116, "Invalid orderType.")
    if trigger_price is None:
        raise mandatory("triggerPrice")
    if req.side not in ("BUY", "SELL"):
        raise SimError(-1117, "Invalid side.")
    if req.quantity is None and not req.close_position:
        raise mandatory("quantity")
    if req.type in ("STOP", "TAKE_PROFIT") and req.price is None:
        raise mandatory("price")
    check_filters(spec, replace(req, stop_price=trigger_price, reduce_only=True), last)
    if would_trigger(req.type, req.side, trigger_price, last):
        raise SimError(-2021, "Order would immediately trigger.")
    return trigger_price


class AlgoBook:
    def __init__(self) -> None:
        self.algos: dict[int, AlgoOrder] = {}
        self._next_algo_id = FIRST_ALGO_ID

    def add(self, account: str, req: OrderRequest, trigger_price: Decimal, working_type: str, now: int,
            client_algo_id: str) -> AlgoOrder:
        algo_id = self._next_algo_id
        self._next_algo_id += 1
        algo = AlgoOrder(
            account=account, symbol=req.symbol, algo_id=algo_id, client_algo_id=client_algo_id,
            order_type=req.type, side=req.side, position_side=req.position_side,
            time_in_force=req.time_in_force or "GTC", quantity=req.quantity or ZERO, trigger_price=trigger_price,
            price=req.price or ZERO, working_type=working_type, reduce_only=req.reduce_only,
            close_position=req.close_position, create_time=now, update_time=now,
        )
        self.algos[algo_id] = algo
        return algo

    def find(self, account: str, algo_id: int | None, client_algo_id: str | None) -> AlgoOrder | None:
        """By algo id, else the latest with the client id."""
        for algo in reversed(list(self.algos.values())):
            by_id = algo.algo_id == algo_id
            by_client = algo_id is None and algo.client_algo_id == client_algo_id
            if algo.account == account and (by_id or by_client):
                return algo
        return None

    def open_on(self, symbol: str) -> list[AlgoOrder]:
        return [a for a in self.algos.values() if a.symbol == symbol and a.is_open]

    def open_for(self, account: str, symbol: str | None = None) -> list[AlgoOrder]:
        return [a for a in self.algos.values() if a.account == account and a.is_open
                and (symbol is None or a.symbol == symbol)]

    def update(self, algo: AlgoOrder, status: str, now: int, batch: Batch | None = None) -> AlgoOrder:
        """Store the algo order in its new status and, given a batch, its event."""
        algo = replace(algo, algo_status=status, update_time=now)
        self.algos[algo.algo_id] = algo
        if batch is not None:
            batch.events.append(AlgoEvent(algo, now))
        return algo


def _child_quantity(engine: MatchingEngine, algo: AlgoOrder) -> Decimal:
    """What the child order trades: a reduce-only / close-position one never more than the position,
    nothing when the position is flat or on the same side."""
    position = engine.futures_account(algo.account).position(algo.symbol)
    qty = abs(position.amt) if algo.close_position else algo.quantity
    if algo.reduce_only or algo.close_position:
        closes = position.amt != 0 and (algo.side == "BUY") == (position.amt < 0)
        qty = min(qty, abs(position.amt)) if closes else ZERO
    return qty


def trigger(engine: MatchingEngine, algo: AlgoOrder, price: Decimal, now: int, batch: Batch) -> None:
    """The path reached the trigger: TRIGGERING, then the child order (TRIGGERED) or EXPIRED when it
    would trade nothing; FINISHED when the child closed at once."""
    book = engine.algo_book
    algo = book.update(replace(algo, trigger_time=now), "TRIGGERING", now, batch)
    qty = _child_quantity(engine, algo)
    if qty <= 0:
        book.update(algo, "EXPIRED", now, batch)
        return
    spec = engine.spec(Market.USDM, algo.symbol)
    child_type = "MARKET" if algo.order_type.endswith("MARKET") else "LIMIT"
    req = OrderRequest(symbol=algo.symbol, side=algo.side, type=child_type, quantity=qty,
                       price=algo.price if child_type == "LIMIT" else None,
                       time_in_force="GTC" if child_type == "LIMIT" else None,
                       reduce_only=algo.reduce_only or algo.close_position)
    child = replace(engine.registry.new_order(algo.account, spec, req, now, algo.client_algo_id, qty),
                    orig_type=algo.order_type)
    algo = book.update(replace(algo, actual_order_id=child.order_id), "TRIGGERED", now, batch)
    engine.store(child, batch, "NEW", now)
    engine.execute_on_arrival(child, spec, price, now, batch)
    if not engine.registry.current(child).is_open:
        book.update(algo, "FINISHED", now, batch)
