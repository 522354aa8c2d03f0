"""The seven invariants a session must keep, checked against the simulator's ground truth.

Each check returns ``None`` when it holds, else a one-line reason naming what differs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

CLIENT_PREFIX = "ict-"
BASE_STEP = Decimal("0.00001")  # BTCUSDT's lot step: less than this cannot be sold, so it is dust
# Less than this on the account is flat: every round trip leaves up to a step of dust (the fee the
# entry took from the coins bought), so after two trades the account holds more than BASE_STEP with
# no position; a session that judged "flat" by BASE_STEP then never entered again. Positions are
# risk-sized to tens of thousands of steps, so a hundred steps of dust is far from any of them.
FLAT_BELOW = BASE_STEP * 100


@dataclass(frozen=True)
class Truth:
    """What the exchange says: every order and trade of the bot's account, its balances, the price."""

    orders: list[dict[str, object]]
    trades: list[dict[str, object]]
    balances: dict[str, Decimal]
    price: Decimal


@dataclass(frozen=True)
class BotView:
    """What the bot believes: its order journal, its fills, its open positions, its equity and state."""

    orders: dict[str, dict[str, str]]  # client_order_id → leg, signal_id, status
    fill_ids: list[tuple[str, str]]  # (trade id, client order id)
    open_qty: Decimal
    closed_positions: int  # each may leave less than one lot step on the exchange (unsellable dust)
    mark_price: Decimal | None
    equity: Decimal
    trading_state: str
    state_reason: str


@dataclass(frozen=True)
class Limits:
    initial_quote: Decimal
    taker_fee_rate: Decimal
    daily_loss_limit_pct: Decimal
    max_drawdown_pct: Decimal
    stop_grace_s: float


@dataclass
class Evidence:
    truth: Truth
    bot: BotView
    limits: Limits
    max_unprotected_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def no_lost_order(e: Evidence) -> str | None:
    ids = [str(o["clientOrderId"]) for o in e.truth.orders]
    foreign = [i for i in ids if not i.startswith(CLIENT_PREFIX)]
    unknown = [i for i in ids if i.startswith(CLIENT_PREFIX) and i not in e.bot.orders]
    if foreign or unknown:
        return f"exchange orders the bot does not know: {unknown[:3]} foreign ids: {foreign[:3]}"
    return None


def no_duplicated_order(e: Evidence) -> str | None:
    repeated = [i for i, n in Counter(str(o["clientOrderId"]) for o in e.truth.orders).items() if n > 1]
    entries = Counter(e.bot.orders[str(o["clientOrderId"])]["signal_id"] for o in e.truth.orders
                      if e.bot.orders.get(str(o["clientOrderId"]), {}).get("leg") == "ENTRY")
    doubled = [s for s, n in entries.items() if n > 1]
    if repeated or doubled:
        return f"client ids sent twice: {repeated[:3]}; signals with several exchange entries: {doubled[:3]}"
    return None


def stop_within_grace(e: Evidence) -> str | None:
    if e.max_unprotected_s > e.limits.stop_grace_s:
        return (f"a position had no exchange stop for {e.max_unprotected_s:.1f} s while the bot was up "
                f"(grace {e.limits.stop_grace_s} s)")
    return None


def positions_equal(e: Evidence) -> str | None:
    """The exchange holds what the bot's open positions hold, plus less than one lot step of dust per
    closed position (a remainder below the minimum order cannot be sold; the bot writes it off)."""
    held = e.truth.balances.get("BTC", Decimal(0))
    dust = held - e.bot.open_qty
    if not Decimal(0) <= dust < BASE_STEP * max(1, e.bot.closed_positions):
        return (f"exchange holds {held} BTC, the bot's open positions {e.bot.open_qty} BTC "
                f"({e.bot.closed_positions} closed positions may leave dust)")
    return None


def fills_counted_once(e: Evidence) -> str | None:
    client_of = {str(o["orderId"]): str(o["clientOrderId"]) for o in e.truth.orders}
    exchange = Counter((str(t["id"]), client_of.get(str(t["orderId"]), "?")) for t in e.truth.trades)
    bot = Counter(e.bot.fill_ids)
    if bot != exchange:
        missing, extra = exchange - bot, bot - exchange
        return f"fills missing in the bot: {sorted(missing)[:3]}; extra or repeated: {sorted(extra)[:3]}"
    return None


def true_equity(e: Evidence) -> Decimal:
    mark = e.bot.mark_price if e.bot.mark_price is not None else e.truth.price
    return e.truth.balances.get("USDT", Decimal(0)) + e.truth.balances.get("BTC", Decimal(0)) * mark


def no_false_halt(e: Evidence) -> str | None:
    if e.bot.trading_state != "HALTED":
        return None
    loss_pct = (e.limits.initial_quote - true_equity(e)) / e.limits.initial_quote * 100
    if loss_pct >= min(e.limits.daily_loss_limit_pct, e.limits.max_drawdown_pct):
        return None
    return f"HALTED ({e.bot.state_reason}) with a true loss of {loss_pct:.2f} % (limits not reached)"


def equity_within_one_fee(e: Evidence) -> str | None:
    """The bot's equity equals the exchange's balances marked at the bot's own mark price, within the fee
    of the largest trade (the price used for marking is the bot's; the amounts must be the exchange's)."""
    notionals = [Decimal(str(t["quoteQty"])) for t in e.truth.trades] or [Decimal(0)]
    one_fee = max(max(notionals) * e.limits.taker_fee_rate, Decimal("0.01"))
    truth = true_equity(e)
    if abs(e.bot.equity - truth) > one_fee:
        return f"bot equity {e.bot.equity:.4f} vs true {truth:.4f} (one fee = {one_fee:.4f})"
    return None


INVARIANTS: dict[str, Callable[[Evidence], str | None]] = {
    "no lost order": no_lost_order,
    "no duplicated order": no_duplicated_order,
    "stop within grace": stop_within_grace,
    "positions equal": positions_equal,
    "fills counted once": fills_counted_once,
    "no false halt": no_false_halt,
    "equity within one fee": equity_within_one_fee,
}


def check_all(evidence: Evidence) -> dict[str, str | None]:
    return {name: check(evidence) for name, check in INVARIANTS.items()}
