"""``TradingFacade`` over the running pipeline: the only door the API (and CLI) use.

Every expected failure leaves as ``NotFound`` (404), ``Conflict`` (409) or ``ValidationFailed``
(422); configuration changes go through the config manager (validated, versioned, published) so
the API, ``ictbot config`` and file edits share one path.
"""

from __future__ import annotations

import time
from decimal import Decimal

from ictbot.api import dto as f
from ictbot.app.application import Application
from ictbot.app.facade_backtests import BacktestJobsFacade
from ictbot.app.facade_config import ConfigFacade, config_failure
from ictbot.app.facade_mapping import PCT, trade_side
from ictbot.app.facade_market import MarketInfoFacade
from ictbot.app.health import pipeline_health
from ictbot.app.logsetup import REDACTOR
from ictbot.app.wiring import Pipeline
from ictbot.domain.errors import ConfigError, IctbotError
from ictbot.domain.events import OrderIntent
from ictbot.domain.order import Order, OrderStatus
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.execution.errors import EntriesBlockedError, OrderNotOpenError, UnknownOrderError
from ictbot.ports.facade import Conflict, NotFound
from ictbot.positions.errors import PositionAlreadyClosedError, PositionNotFoundError
from ictbot.risk.state import BreakerReason, Rejection, TradingState


def _scrubbed(error: str | None) -> str | None:
    """A task's error text may quote a URL or a header holding a secret (a Telegram bot token)."""
    return None if error is None else REDACTOR.scrub(error)


class PipelineFacade(MarketInfoFacade, BacktestJobsFacade, ConfigFacade):
    def __init__(self, application: Application, pipeline: Pipeline) -> None:
        super().__init__(application.config)
        self.app = application
        self.p = pipeline
        self._started_ms = int(time.time() * 1000)

    # ---- system -----------------------------------------------------------------------------
    async def health(self) -> f.HealthReport:
        return pipeline_health(self.app, self.p)

    async def status(self) -> f.StatusReport:
        book = self.p.breakers.book
        reason = "; ".join(f"{t.reason}: {t.message}" for t in book.trips)
        return f.StatusReport(
            mode=self.app.settings.trading_mode.value,
            started_at_ms=self._started_ms,
            uptime_s=round(self.app.orchestrator.uptime_seconds, 3),
            trading_state=self.p.risk.trading_state,
            trading_state_reason=reason,
            active_positions=len(self.p.execution.positions.open_positions()),
            pending_orders=len(self.p.execution.executor.open_orders()),
            enabled_strategies=[s.id for s in self.p.registry.status() if s.enabled],
            symbols=list(self.p.symbols),
            metrics=await self.metrics(),
            tasks=[f.BackgroundTask.model_validate({**info, "last_error": _scrubbed(info["last_error"])})
                   for info in self.app.tasks.status().values()],
        )

    async def metrics(self) -> f.TradingMetrics:
        snapshot = self.p.collector.snapshot()
        return snapshot.model_copy(update={"equity": self.p.account.equity()})

    # ---- positions --------------------------------------------------------------------------------
    def _position_view(self, position: Position) -> f.PositionView:
        return f.PositionView.from_domain(position, self.p.execution.positions.mark_price(position.symbol))

    async def list_positions(self, include_closed: bool) -> list[f.PositionView]:
        views = [self._position_view(p) for p in self.p.execution.positions.open_positions()]
        if include_closed:
            views += [self._position_view(p) for p in await self.p.positions_repo.closed_positions(limit=500)]
        return views

    async def get_position(self, position_id: str) -> f.PositionView:
        position = self.p.execution.positions.get(position_id) or await self.p.positions_repo.get(position_id)
        if position is None:
            raise NotFound("position", position_id)
        return self._position_view(position)

    async def close_position(self, position_id: str, reason: str) -> f.OrderView:
        try:
            order = await self.p.execution.close_position(position_id)
        except PositionNotFoundError as exc:
            raise NotFound("position", position_id) from exc
        except PositionAlreadyClosedError as exc:
            raise Conflict(f"position {position_id} is already closed") from exc
        except IctbotError as exc:
            raise Conflict(f"position {position_id} could not be closed", [str(exc)]) from exc
        if order is None:
            raise Conflict(f"position {position_id} has nothing left to close")
        return f.OrderView.from_domain(order)

    # ---- orders ---------------------------------------------------------------------------------------
    async def list_orders(self, query: f.OrderQuery) -> f.OrderPage:
        rows = await self.p.journal.query(symbol=query.symbol, status=query.status,
                                          strategy_id=query.strategy_id, limit=10_000, offset=0)
        selected = [o for o in rows if self._order_matches(o, query)]
        page = selected[query.offset: query.offset + query.limit]
        return f.OrderPage(items=[f.OrderView.from_domain(o) for o in page], total=len(selected),
                           limit=query.limit, offset=query.offset)

    @staticmethod
    def _order_matches(order: Order, query: f.OrderQuery) -> bool:
        if query.open_only and order.status.is_terminal:
            return False
        if query.side is not None and order.side is not query.side:
            return False
        if query.since_ms is not None and order.created_at < query.since_ms:
            return False
        return not (query.until_ms is not None and order.created_at > query.until_ms)

    async def get_order(self, client_order_id: str) -> f.OrderView:
        order = await self.p.journal.get(client_order_id)
        if order is None:
            raise NotFound("order", client_order_id)
        return f.OrderView.from_domain(order)

    async def create_manual_order(self, request: f.ManualOrderRequest) -> f.OrderView:
        if request.symbol not in self.p.symbols:
            raise NotFound("symbol", request.symbol)
        mark = self.p.execution.positions.mark_price(request.symbol) or self.p.account.marks.get(request.symbol)
        if mark is None and request.price is None:
            raise Conflict("no current price for a market order yet", ["wait for the first candle"])
        # Blocked entries first: until the start-up reconciliation has read the account the risk
        # engine knows no equity, and its refusal would name a symptom ("no exposure headroom").
        blocked = self.p.execution.health().get("entries_blocked") or {}
        if blocked:
            raise Conflict("new entries are blocked", [str(reason) for reason in blocked.values()])
        signal = Signal(
            strategy_id=request.strategy_id, symbol=request.symbol,
            direction=Direction.LONG if request.side == "BUY" else Direction.SHORT,
            entry_type=EntryType.LIMIT if request.type == "LIMIT" else EntryType.MARKET,
            stop_loss=request.stop_loss, take_profits=tuple(request.take_profits),
            time=self.p.clock.now_ms(), entry_price=request.price, reference_price=mark or request.price,
            reason=("manual", request.note) if request.note else ("manual",),
        )
        result = await self.p.risk.evaluate(signal)
        if isinstance(result, Rejection):
            raise Conflict("rejected by risk management", list(result.reasons))
        intent: OrderIntent = result
        if request.quantity is not None:
            if request.quantity > intent.quantity:
                raise Conflict("quantity above the risk-sized maximum",
                                 [f"requested {request.quantity}, allowed {intent.quantity}"])
            intent = OrderIntent(intent.signal, request.quantity, intent.entry_price, intent.stop_loss,
                                 intent.take_profits, intent.risk_amount, intent.leverage)
        try:
            order = await self.p.execution.submit_manual(intent)
        except EntriesBlockedError as exc:
            raise Conflict("new entries are blocked", [str(exc)]) from exc
        return f.OrderView.from_domain(order)

    async def cancel_order(self, client_order_id: str) -> f.OrderView:
        try:
            order = await self.p.execution.cancel_order(client_order_id)
        except UnknownOrderError as exc:
            raise NotFound("order", client_order_id) from exc
        except OrderNotOpenError as exc:
            raise Conflict(f"order {client_order_id} is not open") from exc
        return f.OrderView.from_domain(order)

    # ---- strategies -----------------------------------------------------------------------------------
    def _strategy_view(self, strategy_id: str) -> f.StrategyView:
        status = next((s for s in self.p.registry.status() if s.id == strategy_id), None)
        if status is None:
            raise NotFound("strategy", strategy_id)
        entry = self.app.config.document()["strategies"].get(strategy_id, {})
        open_positions = sum(1 for p in self.p.execution.positions.open_positions() if p.strategy_id == strategy_id)
        risk = entry.get("risk_per_trade_pct")
        if risk is None:  # the strategy sizes with the risk section's value
            risk = self.p.risk.limits.risk_per_trade_pct
        return f.StrategyView(
            id=strategy_id, enabled=status.enabled, kind=status.kind,
            symbols=entry.get("symbols") or list(self.p.symbols),
            timeframe=self.p.base.value, risk_per_trade_pct=Decimal(str(risk)),
            max_positions=entry.get("max_positions"), params=entry.get("params", {}),
            signals=getattr(status, "signals", 0), open_positions=open_positions,
        )

    async def list_strategies(self) -> list[f.StrategyView]:
        return [self._strategy_view(s.id) for s in self.p.registry.status()]

    async def set_strategy_enabled(self, strategy_id: str, enabled: bool) -> f.StrategyView:
        if strategy_id not in self.p.registry.ids():
            raise NotFound("strategy", strategy_id)
        try:
            await self.app.config.update_strategy_config(strategy_id, {"enabled": enabled})
        except ConfigError as exc:
            raise config_failure(exc) from exc
        self.p.registry.set_enabled(strategy_id, enabled)
        return self._strategy_view(strategy_id)

    # ---- analytics ------------------------------------------------------------------------------------
    async def performance(self) -> f.PerformanceReport:
        return f.PerformanceReport(metrics=await self.metrics(), equity_curve=self.p.collector.equity_curve(),
                                   by_strategy=self.p.collector.by_strategy())

    async def risk_report(self) -> f.RiskReport:
        status = self.p.risk.status()
        limits = self.p.risk.limits
        equity = self.p.account.equity()
        exposure = sum((abs(p.qty) * (self.p.account.marks.get(p.symbol) or p.avg_entry)
                        for p in self.p.account.open_positions()), Decimal(0))
        book = self.p.breakers.book
        day_start = book.day_start_equity
        peak = book.peak_equity
        return f.RiskReport(
            trading_state=f.TradingState(status["trading_state"]), equity=equity, exposure=exposure,
            exposure_limit=equity * limits.max_total_exposure_pct / PCT,
            daily_pnl=equity - day_start if day_start is not None else Decimal(0),
            daily_loss_limit=(day_start or equity) * limits.daily_loss_limit_pct / PCT,
            drawdown=float((peak - equity) / peak) if peak else None,
            max_drawdown_limit=float(limits.max_drawdown_pct / PCT),
            open_positions=status["open_positions"], max_positions=limits.max_open_positions,
            limits=status["limits"],
        )

    async def trades(self, query: f.TradeQuery) -> f.TradePage:
        closed = await self.p.positions_repo.closed_positions(limit=100_000)
        selected = [
            p for p in closed
            if (query.symbol is None or p.symbol == query.symbol)
            and (query.strategy_id is None or p.strategy_id == query.strategy_id)
            and (query.since_ms is None or (p.closed_at or 0) >= query.since_ms)
            and (query.until_ms is None or (p.closed_at or 0) <= query.until_ms)
        ]
        page = selected[query.offset: query.offset + query.limit]
        items = [
            f.TradeView(
                id=p.id, symbol=p.symbol, strategy_id=p.strategy_id,
                side=trade_side(p),
                qty=p.entry_qty_total, entry_price=p.avg_entry, pnl=p.realized_pnl, fees=p.fees_quote,
                opened_at_ms=p.opened_at or 0, closed_at_ms=p.closed_at,
            )
            for p in page
        ]
        return f.TradePage(items=items, total=len(selected), limit=query.limit, offset=query.offset)

    async def recent_signals(self, query: f.SignalQuery) -> list[f.SignalView]:
        journal = self.p.trade_journal
        entries = journal.recent_signals(query.limit, rejected_only=query.rejected_only) if journal else []
        return [f.SignalView(signal_id=e.signal_id, time_ms=e.time_ms, strategy_id=e.strategy_id, symbol=e.symbol,
                             direction=e.direction, accepted=e.accepted, reasons=list(e.reasons),
                             entry_price=Decimal(e.entry_price) if e.entry_price else None,
                             stop_loss=Decimal(e.stop_loss) if e.stop_loss else None) for e in entries]

    # ---- trading state ---------------------------------------------------------------------------------
    def _state_view(self) -> f.TradingStateView:
        book = self.p.breakers.book
        last = book.trips[-1] if book.trips else None
        return f.TradingStateView(state=self.p.risk.trading_state,
                                  reason=last.message if last else "", changed_at_ms=last.tripped_at if last else None)

    async def halt_trading(self, reason: str) -> f.TradingStateView:
        await self.p.breakers.trip(BreakerReason.MANUAL.value, message=reason or "halted by operator",
                                   state=TradingState.HALTED)
        return self._state_view()

    async def resume_trading(self) -> f.TradingStateView:
        emergency = self.p.execution.executor.block_reasons.get("emergency")
        if emergency is not None:
            # a kill switch is not undone by one click: the operator restarts the bot after checking
            # the account, and the restarted bot starts HALTED until resumed
            raise Conflict("an emergency stop needs a restart to clear", [f"emergency stop: {emergency}"])
        await self.p.breakers.reset(None)
        self.p.execution.resume_entries()
        return self._state_view()

    async def emergency_stop(self, reason: str) -> f.EmergencyStopReport:
        await self.p.breakers.trip(BreakerReason.MANUAL.value, message=reason or "emergency stop",
                                   state=TradingState.HALTED)
        errors: list[str] = []
        try:
            await self.p.execution.emergency_stop(reason or "emergency stop")
        except IctbotError as exc:
            errors.append(str(exc))
        orders = await self.p.journal.query(limit=1000)
        canceled = [o.client_order_id for o in orders if o.status is OrderStatus.CANCELED
                    and o.reason.startswith(reason or "emergency")]
        closing = [o.client_order_id for o in self.p.execution.executor.open_orders() if o.reduce_only
                   or o.leg.name == "EXIT"]
        return f.EmergencyStopReport(state=self.p.risk.trading_state,
                                     canceled_orders=canceled, closing_orders=closing, errors=errors)

    # ---- market data ------------------------------------------------------------------------------------
    async def candles(self, query: f.CandleQuery) -> list[f.CandleView]:
        if query.symbol not in self.p.symbols:
            raise NotFound("symbol", query.symbol)
        rows = await self.p.candle_store.load(query.symbol, query.timeframe, end_ms=query.end_ms)
        return [f.CandleView.from_domain(c) for c in rows[-query.limit:]]

    async def indicators(self, symbol: str, timeframe: str | None) -> f.IndicatorView:
        from ictbot.api.serialize import indicator_view

        if symbol not in self.p.symbols:
            raise NotFound("symbol", symbol)
        snapshot = self.p.engine.snapshot(symbol)
        if snapshot is None:
            raise NotFound("indicator snapshot", symbol)
        view = indicator_view(snapshot)
        if timeframe is not None:
            if timeframe not in view.views:
                raise NotFound("timeframe", timeframe)
            view = view.model_copy(update={"views": {timeframe: view.views[timeframe]}})
        return view
