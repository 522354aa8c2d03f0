"""Every order the engine has seen, the open ones per symbol, the trades, and the ids it hands out.

Order and trade ids count per market and symbol (as Binance's do); client ids the engine makes up
are deterministic, so a replay produces the same ids.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine.model import STOP_TYPES, OrderRequest, SimOrder, Trade
from ictbot.exchange_sim.errors import mandatory
from ictbot.exchange_sim.symbols import SymbolSpec

ZERO = Decimal(0)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
OrderKey = tuple[Market, str, int]
SymbolKey = tuple[Market, str]


class OrderRegistry:
    def __init__(self) -> None:
        self.orders: dict[OrderKey, SimOrder] = {}
        self.open_ids: dict[SymbolKey, list[int]] = {}
        self.trades: list[Trade] = []
        self._next_order_id: dict[SymbolKey, int] = {}
        self._next_trade_id: dict[SymbolKey, int] = {}
        self._next_list_id = 1
        self._auto_ids = 0

    def add_symbol(self, key: SymbolKey) -> None:
        self.open_ids.setdefault(key, [])
        self._next_order_id.setdefault(key, 1)
        self._next_trade_id.setdefault(key, 1)

    # ---- ids ----------------------------------------------------------------------------------------

    def next_client_id(self) -> str:
        """Binance-style 22-character id for orders placed without ``newClientOrderId`` (deterministic)."""
        self._auto_ids += 1
        digest = int.from_bytes(hashlib.sha256(f"sim-{self._auto_ids}".encode()).digest()[:17], "big")
        chars = []
        for _ in range(22):
            digest, index = divmod(digest, 62)
            chars.append(_ALPHABET[index])
        return "".join(chars)

    def next_list_id(self) -> int:
        list_id = self._next_list_id
        self._next_list_id += 1
        return list_id

    def next_trade_id(self, market: Market, symbol: str) -> int:
        trade_id = self._next_trade_id[(market, symbol)]
        self._next_trade_id[(market, symbol)] = trade_id + 1
        return trade_id

    def new_order(self, account: str, spec: SymbolSpec, req: OrderRequest, now: int, client_id: str,
                  qty: Decimal, list_id: int = -1) -> SimOrder:
        """A NEW order with the next order id (not stored yet; the engine stores it with its event)."""
        key = (spec.market, spec.symbol)
        order_id = self._next_order_id[key]
        self._next_order_id[key] = order_id + 1
        working = req.type not in STOP_TYPES
        return SimOrder(
            account=account, market=spec.market, symbol=spec.symbol, order_id=order_id,
            client_order_id=client_id, side=req.side, type=req.type, orig_qty=qty,
            price=req.price or ZERO, stop_price=req.stop_price or ZERO, time_in_force=req.time_in_force or "GTC",
            time=now, update_time=now, working_time=now if working else -1,
            orig_quote_order_qty=req.quote_order_qty or ZERO, order_list_id=list_id,
            reduce_only=req.reduce_only, position_side=req.position_side, close_position=req.close_position,
            orig_type=req.type,
        )

    # ---- changes ------------------------------------------------------------------------------------

    def record(self, order: SimOrder) -> bool:
        """Store the order's new state; True when this closed it (it leaves the open list)."""
        self.orders[(order.market, order.symbol, order.order_id)] = order
        ids = self.open_ids[(order.market, order.symbol)]
        if order.is_open and order.order_id not in ids:
            ids.append(order.order_id)
        elif not order.is_open and order.order_id in ids:
            ids.remove(order.order_id)
            return True
        return False

    def current(self, order: SimOrder) -> SimOrder:
        """The stored state of ``order`` (it may have changed since the caller read it)."""
        return self.orders[(order.market, order.symbol, order.order_id)]

    def get(self, market: Market, symbol: str, order_id: int) -> SimOrder:
        return self.orders[(market, symbol, order_id)]

    # ---- queries ------------------------------------------------------------------------------------

    def find(self, account: str, market: Market, symbol: str, order_id: int | None,
             client_id: str | None) -> SimOrder | None:
        """By order id (and client id, when both are given), else the open order with the client id,
        else the latest order with it."""
        if order_id is not None:
            order = self.orders.get((market, symbol, order_id))
            if order is None or order.account != account:
                return None
            if client_id is not None and order.client_order_id != client_id:
                return None
            return order
        if client_id is None:
            raise mandatory("orderId")
        for key in reversed(self.open_ids[(market, symbol)]):  # an open order with this id wins
            order = self.orders[(market, symbol, key)]
            if order.account == account and order.client_order_id == client_id:
                return order
        found: SimOrder | None = None
        for order in self.orders.values():
            if (order.market, order.symbol, order.account, order.client_order_id) == (market, symbol, account,
                                                                                     client_id):
                found = order
        return found

    def open_orders(self, account: str, market: Market, symbol: str | None = None) -> list[SimOrder]:
        result: list[SimOrder] = []
        for (mkt, sym), ids in self.open_ids.items():
            if mkt is market and (symbol is None or sym == symbol):
                result.extend(self.orders[(mkt, sym, i)] for i in ids)
        return [o for o in result if o.account == account]

    def open_on(self, market: Market, symbol: str) -> list[SimOrder]:
        """Every account's open orders on one symbol, oldest first (a snapshot: safe to change orders)."""
        return [self.orders[(market, symbol, i)] for i in self.open_ids[(market, symbol)]]

    def all_orders(self, account: str, market: Market, symbol: str) -> list[SimOrder]:
        return sorted(
            (o for o in self.orders.values() if o.account == account and o.market is market and o.symbol == symbol),
            key=lambda o: o.order_id,
        )

    def account_trades(self, account: str, market: Market, symbol: str) -> list[Trade]:
        return [t for t in self.trades if t.account == account and t.symbol == symbol and t.market is market]
