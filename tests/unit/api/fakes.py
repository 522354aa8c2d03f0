"""An in-memory ``TradingFacade`` for API tests (the real one lives in ``ictbot.app.facade``)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from ictbot.api.dto import (
    CandleQuery,
    CandleView,
    ConfigDocument,
    ConfigValidation,
    ConfigVersion,
    ConfigView,
    EmergencyStopReport,
    IndicatorView,
    ManualOrderRequest,
    OrderPage,
    OrderQuery,
    OrderView,
    PerformanceReport,
    PositionView,
    RiskConfigUpdate,
    RiskReport,
    SignalQuery,
    SignalView,
    StatusReport,
    StrategyConfigUpdate,
    StrategyView,
    TradePage,
    TradeQuery,
    TradeView,
    TradingState,
    TradingStateView,
)
from ictbot.domain.candle import Candle
from ictbot.domain.order import Order, OrderCanceled, OrderSide, OrderType
from ictbot.domain.position import Position
from ictbot.domain.redaction import redact
from ictbot.domain.timeframe import Timeframe
from ictbot.monitoring.reports import ComponentHealth, HealthReport, HealthState, TradingMetrics
from ictbot.ports.facade import Conflict, FieldError, NotFound, ValidationFailed

T0 = 1_700_000_000_000
SECRET_API_KEY = "binance-api-key-SHOULD-NEVER-LEAK-1234567890"


def make_position(position_id: str = "pos-1", qty: str = "0.5", symbol: str = "BTCUSDT") -> Position:
    return Position(
        id=position_id, symbol=symbol, base_asset=symbol[:-4], quote_asset="USDT", strategy_id="ict_ote",
        qty=Decimal(qty), avg_entry=Decimal("30000"), opened_at=T0, stop_loss=Decimal("29500"),
        take_profits=(Decimal("31000"),),
    )


def make_order(client_id: str = "ict-aaa-E0", status_open: bool = True, symbol: str = "BTCUSDT") -> Order:
    order = Order(
        client_order_id=client_id, symbol=symbol, side=OrderSide.BUY, type=OrderType.LIMIT,
        quantity=Decimal("0.5"), price=Decimal("30000"), created_at=T0, strategy_id="ict_ote",
    )
    from ictbot.domain.order import OrderAccepted

    order = order.apply(OrderAccepted("1001", T0 + 1))
    return order if status_open else order.apply(OrderCanceled(T0 + 2))


class FakeFacade:
    def __init__(self) -> None:
        self.healthy = True
        self.exchange_down = False
        self.state = TradingState.ACTIVE
        self.state_reason = ""
        self.positions: dict[str, Position] = {"pos-1": make_position()}
        self.orders: dict[str, Order] = {
            "ict-aaa-E0": make_order("ict-aaa-E0"),
            "ict-bbb-E0": make_order("ict-bbb-E0", status_open=False, symbol="ETHUSDT"),
        }
        self.strategies: dict[str, dict[str, Any]] = {
            "ict_ote": {"enabled": True, "risk_per_trade_pct": Decimal("1"), "max_positions": 2},
            "silver_bullet": {"enabled": False, "risk_per_trade_pct": Decimal("0.5"), "max_positions": 1},
        }
        self.risk: dict[str, Any] = {"risk_per_trade_pct": "1", "max_daily_loss": "0.03", "max_positions": 3}
        self.version = 1
        self.history: list[ConfigVersion] = [ConfigVersion(version=1, section="all", changed_at_ms=T0)]
        self.snapshots: dict[int, tuple[dict[str, dict[str, Any]], dict[str, Any]]] = {
            1: (self._copy_strategies(), dict(self.risk))
        }
        self.calls: list[str] = []
        self.fail_with: Exception | None = None

    # ---- helpers ----------------------------------------------------------------------------------
    def _copy_strategies(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.strategies.items()}

    def _config_view(self) -> ConfigView:
        other = redact({"exchange": {"name": "binance", "api_key": SECRET_API_KEY}})
        return ConfigView(version=self.version, strategies=self._copy_strategies(), risk=dict(self.risk), other=other)

    def _bump(self, section: str, changes: dict[str, Any]) -> None:
        self.version += 1
        self.history.append(ConfigVersion(version=self.version, section=section, changed_at_ms=T0, changes=changes))
        self.snapshots[self.version] = (self._copy_strategies(), dict(self.risk))

    def _check(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_with is not None:
            raise self.fail_with

    # ---- system -----------------------------------------------------------------------------------
    async def health(self) -> HealthReport:
        state = HealthState.HEALTHY if self.healthy else HealthState.DEGRADED
        components = {"bus": ComponentHealth(status=HealthState.HEALTHY),
                      "market_data": ComponentHealth(status=state, detail="ok" if self.healthy
                                                     else "stale: no kline for 120 s")}
        if self.exchange_down:
            components["exchange"] = ComponentHealth(status=HealthState.DOWN, reason="connection refused")
        return HealthReport.combine(components)

    async def status(self) -> StatusReport:
        self._check("status")
        return StatusReport(
            started_at_ms=T0, uptime_s=12.5, trading_state=self.state, trading_state_reason=self.state_reason,
            active_positions=sum(1 for p in self.positions.values() if p.is_open),
            pending_orders=sum(1 for o in self.orders.values() if o.status.is_open),
            enabled_strategies=[k for k, v in self.strategies.items() if v["enabled"]],
            symbols=["BTCUSDT"], metrics=await self.metrics(),
        )

    async def metrics(self) -> TradingMetrics:
        return TradingMetrics(trades=4, wins=3, losses=1, win_rate=0.75, profit_factor=3.0,
                              total_pnl=Decimal("120.5"), fill_rate=0.9)

    # ---- config -----------------------------------------------------------------------------------
    async def get_config(self) -> ConfigView:
        self._check("get_config")
        return self._config_view()

    async def update_strategy_config(self, update: StrategyConfigUpdate) -> ConfigView:
        self._check("update_strategy_config")
        if update.strategy_id not in self.strategies:
            raise NotFound("strategy", update.strategy_id)
        changes = update.model_dump(exclude_unset=True, exclude={"strategy_id"})
        if changes.get("max_positions") == 0 and changes.get("enabled"):
            raise ValidationFailed([("max_positions", "an enabled strategy needs max_positions >= 1")])
        self.strategies[update.strategy_id].update(changes)
        self._bump(f"strategy:{update.strategy_id}", changes)
        return self._config_view()

    async def update_risk_config(self, update: RiskConfigUpdate) -> ConfigView:
        self._check("update_risk_config")
        changes = update.model_dump(exclude_unset=True, mode="json")
        self.risk.update(changes)
        self._bump("risk", changes)
        return self._config_view()

    async def validate_config(self, document: ConfigDocument) -> ConfigValidation:
        errors = [FieldError(field=f"strategies.{i}.strategy_id", reason="unknown strategy")
                  for i, s in enumerate(document.strategies or []) if s.strategy_id not in self.strategies]
        return ConfigValidation(valid=not errors, errors=errors)

    async def config_history(self, limit: int) -> list[ConfigVersion]:
        return list(reversed(self.history))[:limit]

    async def rollback_config(self, version: int) -> ConfigView:
        self._check("rollback_config")
        if version not in self.snapshots:
            raise NotFound("config version", version)
        if version == self.version:
            raise Conflict(f"version {version} is already active")
        strategies, risk = self.snapshots[version]
        self.strategies = {k: dict(v) for k, v in strategies.items()}
        self.risk = dict(risk)
        self._bump("rollback", {"to": version})
        return self._config_view()

    # ---- positions --------------------------------------------------------------------------------
    async def list_positions(self, include_closed: bool) -> list[PositionView]:
        return [PositionView.from_domain(p, Decimal("30500")) for p in self.positions.values()
                if include_closed or p.is_open]

    async def get_position(self, position_id: str) -> PositionView:
        if position_id not in self.positions:
            raise NotFound("position", position_id)
        return PositionView.from_domain(self.positions[position_id], Decimal("30500"))

    async def close_position(self, position_id: str, reason: str) -> OrderView:
        self._check("close_position")
        position = self.positions.get(position_id)
        if position is None:
            raise NotFound("position", position_id)
        if not position.is_open:
            raise Conflict(f"position {position_id} is already closed")
        self.positions[position_id] = replace(position, qty=Decimal(0), closed_at=T0 + 10)
        order = Order(client_order_id=f"ict-close-{position_id}", symbol=position.symbol, side=OrderSide.SELL,
                      type=OrderType.MARKET, quantity=abs(position.qty), created_at=T0 + 10, reduce_only=True,
                      position_id=position_id, reason=reason)
        self.orders[order.client_order_id] = order
        return OrderView.from_domain(order)

    # ---- orders -----------------------------------------------------------------------------------
    async def list_orders(self, query: OrderQuery) -> OrderPage:
        items = [o for o in self.orders.values()
                 if (query.symbol is None or o.symbol == query.symbol)
                 and (query.status is None or o.status is query.status)
                 and (not query.open_only or o.status.is_open)]
        page = items[query.offset: query.offset + query.limit]
        return OrderPage(items=[OrderView.from_domain(o) for o in page], total=len(items),
                         limit=query.limit, offset=query.offset)

    async def get_order(self, client_order_id: str) -> OrderView:
        if client_order_id not in self.orders:
            raise NotFound("order", client_order_id)
        return OrderView.from_domain(self.orders[client_order_id])

    async def create_manual_order(self, request: ManualOrderRequest) -> OrderView:
        self._check("create_manual_order")
        if self.state is TradingState.HALTED:
            raise Conflict("trading is halted", ["risk: trading state HALTED"])
        if request.symbol not in {"BTCUSDT", "ETHUSDT"}:
            raise ValidationFailed([("symbol", f"unknown symbol {request.symbol}")])
        client_id = f"ict-manual-{len(self.orders)}-E0"
        order = Order(client_order_id=client_id, symbol=request.symbol, side=OrderSide(request.side),
                      type=OrderType(request.type), quantity=request.quantity or Decimal("0.01"),
                      price=request.price, created_at=T0 + 20, strategy_id=request.strategy_id)
        self.orders[client_id] = order
        return OrderView.from_domain(order)

    async def cancel_order(self, client_order_id: str) -> OrderView:
        self._check("cancel_order")
        order = self.orders.get(client_order_id)
        if order is None:
            raise NotFound("order", client_order_id)
        if order.status.is_terminal:
            raise Conflict(f"order {client_order_id} is {order.status.value}")
        self.orders[client_order_id] = order.apply(OrderCanceled(T0 + 30, "canceled via API"))
        return OrderView.from_domain(self.orders[client_order_id])

    # ---- strategies -------------------------------------------------------------------------------
    async def list_strategies(self) -> list[StrategyView]:
        return [StrategyView(id=k, enabled=v["enabled"], risk_per_trade_pct=v["risk_per_trade_pct"],
                             max_positions=v["max_positions"]) for k, v in self.strategies.items()]

    async def set_strategy_enabled(self, strategy_id: str, enabled: bool) -> StrategyView:
        self._check("set_strategy_enabled")
        if strategy_id not in self.strategies:
            raise NotFound("strategy", strategy_id)
        self.strategies[strategy_id]["enabled"] = enabled
        v = self.strategies[strategy_id]
        return StrategyView(id=strategy_id, enabled=enabled, risk_per_trade_pct=v["risk_per_trade_pct"],
                            max_positions=v["max_positions"])

    # ---- analytics --------------------------------------------------------------------------------
    async def performance(self) -> PerformanceReport:
        return PerformanceReport(metrics=await self.metrics())

    async def risk_report(self) -> RiskReport:
        return RiskReport(trading_state=self.state, exposure=Decimal("15000"), daily_pnl=Decimal("-12.5"),
                          open_positions=1, max_positions=3)

    async def recent_signals(self, query: SignalQuery) -> list[SignalView]:
        signals = [SignalView(signal_id="s2", time_ms=T0 + 300_000, strategy_id="ict_ote", symbol="BTCUSDT",
                              direction="LONG", accepted=False, reasons=["daily loss limit reached"],
                              stop_loss=Decimal("29500")),
                   SignalView(signal_id="s1", time_ms=T0, strategy_id="ict_ote", symbol="BTCUSDT", direction="LONG",
                              accepted=True, reasons=[], entry_price=Decimal("30000"), stop_loss=Decimal("29500"))]
        return [s for s in signals if not (query.rejected_only and s.accepted)][: query.limit]

    async def trades(self, query: TradeQuery) -> TradePage:
        from ictbot.domain.position import PositionSide

        items = [TradeView(id="t1", symbol="BTCUSDT", strategy_id="ict_ote", side=PositionSide.LONG,
                           qty=Decimal("0.5"), entry_price=Decimal("30000"), exit_price=Decimal("30500"),
                           pnl=Decimal("250"), opened_at_ms=T0, closed_at_ms=T0 + 1000)]
        return TradePage(items=items[query.offset: query.offset + query.limit], total=len(items),
                         limit=query.limit, offset=query.offset)

    # ---- trading state ----------------------------------------------------------------------------
    async def halt_trading(self, reason: str) -> TradingStateView:
        self._check("halt_trading")
        self.state, self.state_reason = TradingState.HALTED, reason
        return TradingStateView(state=self.state, reason=reason, changed_at_ms=T0)

    async def resume_trading(self) -> TradingStateView:
        self._check("resume_trading")
        if self.state_reason.startswith("emergency"):
            raise Conflict("an emergency stop needs a restart to clear")
        self.state, self.state_reason = TradingState.ACTIVE, ""
        return TradingStateView(state=self.state, changed_at_ms=T0)

    async def emergency_stop(self, reason: str) -> EmergencyStopReport:
        self._check("emergency_stop")
        self.state, self.state_reason = TradingState.HALTED, f"emergency: {reason}"
        canceled = [k for k, o in self.orders.items() if o.status.is_open]
        for key in canceled:
            self.orders[key] = self.orders[key].apply(OrderCanceled(T0 + 40, "emergency stop"))
        closing = [f"ict-close-{k}" for k, p in self.positions.items() if p.is_open]
        return EmergencyStopReport(state=self.state, canceled_orders=canceled, closing_orders=closing)

    # ---- market data ------------------------------------------------------------------------------
    async def candles(self, query: CandleQuery) -> list[CandleView]:
        if query.symbol != "BTCUSDT":
            raise NotFound("symbol", query.symbol)
        tf = query.timeframe
        candles = [Candle("BTCUSDT", tf, tf.floor(T0) + i * tf.ms, Decimal(100 + i), Decimal(102 + i),
                          Decimal(99 + i), Decimal(101 + i), Decimal(5)) for i in range(min(query.limit, 50))]
        return [CandleView.from_domain(c) for c in candles]

    async def indicators(self, symbol: str, timeframe: str | None) -> IndicatorView:
        if symbol != "BTCUSDT":
            raise NotFound("symbol", symbol)
        return IndicatorView(symbol=symbol, time_ms=T0, base_timeframe=timeframe or Timeframe.M5.value,
                             views={"5m": {"trend": 1}})
