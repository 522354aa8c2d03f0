"""Immutable records of the matching engine: orders, order lists, algo orders, trades and events.

Enum-like fields hold Binance's wire strings (``"LIMIT"``, ``"PARTIALLY_FILLED"``) so the server
can write them without translation; the paper venue maps them to domain enums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ictbot.domain.market import Market

ZERO = Decimal(0)

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
LIMIT_LIKE = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A validated new-order request (any venue front end builds one)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal | None = None
    quote_order_qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str | None = None
    client_order_id: str | None = None
    reduce_only: bool = False
    position_side: str = "BOTH"
    close_position: bool = False


@dataclass(frozen=True, slots=True)
class SimOrder:
    account: str
    market: Market
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    orig_qty: Decimal
    price: Decimal
    stop_price: Decimal
    time_in_force: str
    time: int
    update_time: int
    working_time: int
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    orig_quote_order_qty: Decimal = ZERO
    order_list_id: int = -1
    triggered: bool = False
    expiry_reason: str = "NONE"
    reduce_only: bool = False
    position_side: str = "BOTH"
    close_position: bool = False
    orig_type: str = ""
    lock_id: int = -1

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_working(self) -> bool:
        """On the book (Binance's ``isWorking`` / ``w``): stops only once triggered."""
        return self.type not in STOP_TYPES or self.triggered

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed_qty if self.executed_qty > 0 else ZERO


@dataclass(frozen=True, slots=True)
class Trade:
    account: str
    symbol: str
    trade_id: int
    order_id: int
    client_order_id: str
    order_list_id: int
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_maker: bool
    realized_pnl: Decimal = ZERO
    market: Market = Market.SPOT


@dataclass(frozen=True, slots=True)
class OrderList:
    account: str
    symbol: str
    order_list_id: int
    list_client_order_id: str
    order_ids: tuple[int, ...]
    client_order_ids: tuple[str, ...]
    transaction_time: int
    list_status_type: str = "EXEC_STARTED"
    list_order_status: str = "EXECUTING"
    contingency_type: str = "OCO"  # OCO, or OTO (also an OTOCO: Binance reports both as "OTO")


@dataclass(frozen=True, slots=True)
class AlgoOrder:
    """USD-M conditional order (``POST /fapi/v1/algoOrder``)."""

    account: str
    symbol: str
    algo_id: int
    client_algo_id: str
    order_type: str
    side: str
    position_side: str
    time_in_force: str
    quantity: Decimal
    trigger_price: Decimal
    price: Decimal
    working_type: str
    reduce_only: bool
    close_position: bool
    create_time: int
    update_time: int
    algo_status: str = "NEW"
    trigger_time: int = 0
    actual_order_id: int = 0

    @property
    def is_open(self) -> bool:
        return self.algo_status == "NEW"


@dataclass(frozen=True, slots=True)
class BalanceView:
    asset: str
    free: Decimal
    locked: Decimal


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    position_amt: Decimal
    entry_price: Decimal
    mark_price: Decimal
    unrealized_pnl: Decimal
    leverage: int
    margin_type: str
    realized_pnl: Decimal = ZERO
    update_time: int = 0
    position_side: str = "BOTH"


# ---- events the engine emits (in the order they happened) -------------------------------------


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One execution report: the order after the change, and the trade if ``execution_type == TRADE``."""

    order: SimOrder
    execution_type: str
    time: int
    trade: Trade | None = None
    cancel_client_order_id: str = ""  # the cancel request's newClientOrderId (executionReport `c` on CANCELED)
    reject_reason: str = "NONE"


@dataclass(frozen=True, slots=True)
class BalanceEvent:
    account: str
    market: Market
    balances: tuple[BalanceView, ...]
    time: int
    reason: str = "ORDER"
    positions: tuple[PositionView, ...] = ()


@dataclass(frozen=True, slots=True)
class ListEvent:
    order_list: OrderList
    time: int


@dataclass(frozen=True, slots=True)
class AlgoEvent:
    algo: AlgoOrder
    time: int


EngineEvent = OrderEvent | BalanceEvent | ListEvent | AlgoEvent


@dataclass(slots=True)
class Lock:
    """Funds held for open orders; OCO legs share one lock (one reservation for the list)."""

    asset: str
    amount: Decimal
    holders: set[int] = field(default_factory=set)
