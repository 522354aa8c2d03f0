"""Execution settings (frozen; the config manager hands a new instance on reload)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ictbot.domain.order import OrderType, TimeInForce


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    # An unfilled (or partly filled) entry older than this is canceled; its filled part is kept.
    entry_timeout_s: float = 300.0
    # A request older than this can no longer execute (≥ recvWindow): an order still not found by
    # query after it is declared lost (REJECTED) instead of being resent.
    unknown_grace_s: float = 10.0
    unknown_query_interval_s: float = 0.5
    # A stop (or the last target) breached for this long without a fill is closed at market.
    breach_grace_s: float = 10.0
    reconcile_interval_s: float = 60.0
    # A fill whose trades the venue did not return is looked up again after this, doubling up to the cap.
    detail_retry_s: float = 0.5
    detail_retry_max_s: float = 30.0
    # After the venue refused a protective order, wait this long before arming again.
    rearm_backoff_s: float = 30.0
    poll_interval_s: float = 2.0
    timer_interval_s: float = 1.0
    stream_retry_max_s: float = 30.0
    # Spot STOP_LOSS_LIMIT legs: limit price this fraction beyond the stop so the order fills.
    stop_limit_slippage: Decimal = Decimal("0.005")
    # Spot target leg of the OCO: LIMIT_MAKER (rests on the book) or TAKE_PROFIT_LIMIT (triggers).
    spot_target_type: OrderType = OrderType.LIMIT_MAKER
    # Spot entries go out as one OTOCO order list (the exchange places the stop/target OCO the moment
    # the entry fills) wherever the symbol's ``otoAllowed`` and the venue allow it.
    entry_lists: bool = True
    # A MARKET-style entry sent as an OTOCO working order (LIMIT only there) is a LIMIT FOK at the
    # reference price plus this fraction: all or nothing, so the pending OCO always covers the fill.
    market_entry_slippage: Decimal = Decimal("0.005")
    # The pending legs sell this fraction less than the entry buys: Binance takes a spot BUY's fee out
    # of the coins bought, and places the pending OCO only if the account holds its quantity.
    pending_fee_reserve: Decimal = Decimal("0.001")
    limit_entry_type: OrderType = OrderType.LIMIT
    limit_entry_tif: TimeInForce = TimeInForce.GTC
    # Used only when a position's planned stop was lost (adopted after a crash without a plan).
    fallback_stop_fraction: Decimal = Decimal("0.02")
    # Futures: margin type per symbol ("ISOLATED"/"CROSSED"); leverage comes from the intent.
    margin_types: dict[str, str] = field(default_factory=dict)
    # Relative tolerance when comparing venue balances/positions with our books.
    balance_tolerance: Decimal = Decimal("0.001")
    # Order events (ORDER_UPDATED / ORDER_EXECUTED) and execution alerts wait at most this long for
    # the bus (a NATS ack): they go out before the request leaves, before its fills are booked, before
    # a flatten, so a stalled bus must not hold a stop or an exit back. Past it the event is skipped,
    # logged and counted.
    event_publish_timeout_s: float = 1.0
    # Background loops (stream consumer, timers, periodic reconcile). Off in unit tests and in
    # backtests that drive ``tick()`` themselves.
    background_tasks: bool = True
