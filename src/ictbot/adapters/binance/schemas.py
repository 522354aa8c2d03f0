"""Typed shapes of the raw Binance payloads the bot reads (validated with pydantic, then mapped).

Only fields the bot uses are declared; unknown fields are ignored so additive API changes do not
break parsing. Decimals arrive as strings and stay ``Decimal``. Integers are accepted in their
string form too (some recorders stringify them).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


# ---- exchangeInfo ---------------------------------------------------------------------------
class RawRateLimit(_Raw):
    rateLimitType: str
    interval: str
    intervalNum: int = 1
    limit: int


class RawSymbol(_Raw):
    symbol: str
    status: str = "TRADING"
    baseAsset: str
    quoteAsset: str
    orderTypes: list[str] = Field(default_factory=list)
    ocoAllowed: bool = False
    contractType: str | None = None
    filters: list[dict[str, Any]] = Field(default_factory=list)


class RawExchangeInfo(_Raw):
    serverTime: int | None = None
    rateLimits: list[RawRateLimit] = Field(default_factory=list)
    symbols: list[RawSymbol] = Field(default_factory=list)


# ---- orders (REST) --------------------------------------------------------------------------
class RawOrderFill(_Raw):
    price: Decimal
    qty: Decimal
    commission: Decimal = Decimal(0)
    commissionAsset: str = ""
    tradeId: int


class RawOrder(_Raw):
    """Spot ``POST/GET/DELETE /api/v3/order`` and USD-M ``/fapi/v1/order`` replies (and list items)."""

    symbol: str
    orderId: int
    orderListId: int = -1
    clientOrderId: str
    origClientOrderId: str | None = None
    transactTime: int | None = None
    time: int | None = None
    updateTime: int | None = None
    price: Decimal = Decimal(0)
    origQty: Decimal = Decimal(0)
    executedQty: Decimal = Decimal(0)
    cummulativeQuoteQty: Decimal | None = None
    cumQuote: Decimal | None = None
    avgPrice: Decimal | None = None
    status: str = "NEW"  # an ACK reply has no status: it means "accepted"
    timeInForce: str | None = None
    type: str | None = None
    side: str | None = None
    stopPrice: Decimal | None = None
    reduceOnly: bool | None = None
    expiryReason: str | None = None
    fills: list[RawOrderFill] = Field(default_factory=list)


class RawOrderListLeg(_Raw):
    symbol: str
    orderId: int
    clientOrderId: str


class RawOrderList(_Raw):
    orderListId: int
    contingencyType: str
    listStatusType: str
    listOrderStatus: str
    listClientOrderId: str
    transactionTime: int
    symbol: str
    orders: list[RawOrderListLeg] = Field(default_factory=list)
    orderReports: list[RawOrder] = Field(default_factory=list)


class RawAlgoOrder(_Raw):
    """USD-M ``/fapi/v1/algoOrder`` reply (``orderType``; some payloads say ``type``)."""

    algoId: int
    clientAlgoId: str
    algoType: str = "CONDITIONAL"
    orderType: str | None = None
    type: str | None = None
    symbol: str
    side: str
    quantity: Decimal = Decimal(0)
    algoStatus: str
    triggerPrice: Decimal | None = None
    createTime: int = 0
    updateTime: int = 0


class RawTrade(_Raw):
    """Spot ``myTrades`` row and USD-M ``userTrades`` row."""

    symbol: str
    id: int
    orderId: int
    price: Decimal
    qty: Decimal
    commission: Decimal = Decimal(0)
    commissionAsset: str = ""
    time: int
    isBuyer: bool | None = None
    isMaker: bool | None = None
    buyer: bool | None = None
    maker: bool | None = None
    side: str | None = None

    @property
    def buyer_side(self) -> bool:
        if self.isBuyer is not None:
            return self.isBuyer
        if self.buyer is not None:
            return self.buyer
        return self.side == "BUY"

    @property
    def maker_side(self) -> bool:
        return bool(self.isMaker if self.isMaker is not None else self.maker)


class RawBalance(_Raw):
    asset: str
    free: Decimal
    locked: Decimal


class RawSpotAccount(_Raw):
    canTrade: bool = True
    balances: list[RawBalance] = Field(default_factory=list)


class RawFuturesAsset(_Raw):
    asset: str
    walletBalance: Decimal
    availableBalance: Decimal = Decimal(0)


class RawFuturesAccount(_Raw):
    assets: list[RawFuturesAsset] = Field(default_factory=list)


class RawPositionRisk(_Raw):
    symbol: str
    positionAmt: Decimal
    entryPrice: Decimal
    unRealizedProfit: Decimal = Decimal(0)
    leverage: int | None = None
    positionSide: str = "BOTH"


# ---- streams --------------------------------------------------------------------------------
class RawWsKlineBody(_Raw):
    t: int
    T: int
    s: str
    i: str
    o: Decimal
    c: Decimal
    h: Decimal
    low: Decimal = Field(alias="l")
    v: Decimal
    n: int = 0
    x: bool
    q: Decimal = Decimal(0)


class RawWsKline(_Raw):
    e: str
    E: int
    s: str
    k: RawWsKlineBody


class RawExecutionReport(_Raw):
    """Spot user-data ``executionReport``."""

    e: str
    E: int
    s: str
    c: str
    S: str
    o: str
    q: Decimal
    p: Decimal
    g: int = -1
    C: str = ""
    x: str
    X: str
    r: str = "NONE"
    i: int
    last_qty: Decimal = Field(alias="l")
    z: Decimal
    L: Decimal
    n: Decimal | None = None
    N: str | None = None
    T: int
    t: int = -1
    m: bool = False
    Z: Decimal = Decimal(0)
    eR: str | None = None


class RawFuturesOrderBody(_Raw):
    s: str
    c: str
    S: str
    o: str
    q: Decimal
    p: Decimal
    ap: Decimal = Decimal(0)
    x: str
    X: str
    i: int
    last_qty: Decimal = Field(alias="l")
    z: Decimal
    L: Decimal
    n: Decimal | None = None
    N: str | None = None
    T: int
    t: int = 0
    m: bool = False
    R: bool = False
    rp: Decimal = Decimal(0)


class RawOrderTradeUpdate(_Raw):
    e: str
    E: int
    T: int
    o: RawFuturesOrderBody


class RawAlgoUpdateBody(_Raw):
    caid: str
    aid: int
    o: str
    s: str
    S: str
    q: Decimal = Decimal(0)
    X: str
    ai: str | None = None
    ap: Decimal = Decimal(0)
    aq: Decimal = Decimal(0)
    tp: Decimal | None = None
    rm: str | None = None


class RawAlgoUpdate(_Raw):
    e: str
    E: int
    T: int
    o: RawAlgoUpdateBody
