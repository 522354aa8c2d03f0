from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from ictbot.adapters.storage import Database, SqlKeyValueStore, sqlite_url
from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.candle import Candle
from ictbot.domain.events import (
    ConfigUpdated,
    KlineUpdated,
    PositionClosed,
    PositionUpdated,
    SignalGenerated,
    SignalRejected,
    SignalValidated,
)
from ictbot.domain.signal import Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.clock import ManualClock
from ictbot.risk import AccountTracker, CircuitBreakers, RiskLimits, RiskService, TradingState
from tests.unit.risk.support import MemoryKeyValueStore, make_signal, open_position, real_instrument

DAY = 86_400_000
T0 = 19_675 * DAY + 8 * 3_600_000  # 2023-11-14 08:00 UTC
LIMITS = RiskLimits(max_symbol_exposure_pct=Decimal(100), min_reward_risk=Decimal(2))


class Rig:
    def __init__(self, store: Any = None, limits: RiskLimits = LIMITS) -> None:
        self.bus = EventBus()
        self.strategy_risk: dict[str, Decimal] = {}
        self.clock = ManualClock(T0)
        self.store = store or MemoryKeyValueStore()
        self.stale: dict[str, bool] = {}
        self.breakers = CircuitBreakers(self.store, self.clock, lambda: self.risk.limits, bus=self.bus)
        self.account = AccountTracker(Decimal(10_000))
        self.risk = RiskService(
            self.bus,
            limits=limits,
            instruments={"BTCUSDT": real_instrument()},
            clock=self.clock,
            breakers=self.breakers,
            account=self.account,
            data_stale=lambda s: self.stale.get(s, False),
            strategy_risk_pct=self.strategy_risk.get,
        )
        self.risk.attach()
        self.results: list[SignalValidated | SignalRejected] = []
        self.out: dict[Topic, list[Any]] = {Topic.SIGNAL_VALIDATED: [], Topic.SIGNAL_REJECTED: [], Topic.ALERT: []}
        for topic in self.out:
            self.bus.subscribe(topic, self._collect, name=f"test.{topic.value}")

    async def _collect(self, envelope: Envelope) -> None:
        self.out[envelope.topic].append(envelope.payload)
        if envelope.topic is not Topic.ALERT:
            self.results.append(envelope.payload)

    async def start(self) -> Rig:
        await self.breakers.load()
        await self.bus.start()
        return self

    async def send(self, signal: Signal) -> SignalValidated | SignalRejected:
        before = len(self.results)
        await self.bus.publish(Topic.SIGNAL_GENERATED, SignalGenerated(signal))
        await self.bus.wait_idle()
        assert len(self.results) == before + 1
        return self.results[-1]

    async def publish(self, topic: Topic, payload: Any) -> None:
        await self.bus.publish(topic, payload)
        await self.bus.wait_idle()


def sig(time: int = T0, strategy_id: str = "strategy_a", **kwargs: Any) -> Signal:
    return make_signal(time=time, strategy_id=strategy_id, **kwargs)


def reasons(result: Any) -> str:
    assert isinstance(result, SignalRejected), result
    return " | ".join(result.reasons)


async def test_validated_then_duplicate_then_pending_blocks_the_symbol() -> None:
    rig = await Rig().start()
    signal = sig()
    first = await rig.send(signal)
    assert isinstance(first, SignalValidated) and first.intent.quantity == Decimal("0.13900")
    assert "duplicate signal" in reasons(await rig.send(signal))
    assert "max open positions for BTCUSDT" in reasons(await rig.send(sig(strategy_id="strategy_b")))
    rig.clock.advance(120)  # the pending reservation expires
    assert isinstance(await rig.send(sig(strategy_id="strategy_b", time=T0 + 60_000)), SignalValidated)
    await rig.bus.stop()


async def test_a_strategy_sizes_with_its_own_risk_per_trade_read_at_each_signal() -> None:
    rig = await Rig().start()
    rig.strategy_risk["strategy_b"] = Decimal("0.5")  # half the limits' 1 %
    half = await rig.send(sig(strategy_id="strategy_b"))
    assert isinstance(half, SignalValidated) and half.intent.quantity == Decimal("0.06950")
    assert half.intent.risk_amount <= Decimal(10_000) * Decimal("0.005")
    rig.clock.advance(120)  # the pending reservation expires
    rig.strategy_risk["strategy_a"] = Decimal("1.1")  # a config reload: the next signal uses it
    larger = await rig.send(sig(strategy_id="strategy_a", time=T0 + 60_000))
    assert isinstance(larger, SignalValidated) and larger.intent.quantity == Decimal("0.15290")
    await rig.bus.stop()


async def test_stale_data_rejects_then_trips_the_breaker() -> None:
    rig = await Rig().start()
    rig.stale["BTCUSDT"] = True
    assert "stale" in reasons(await rig.send(sig()))
    rig.clock.advance(300)
    result = await rig.send(sig(time=T0 + 300_000))
    assert "REDUCING" in reasons(result)
    assert any("stale_data" in alert.message for alert in rig.out[Topic.ALERT])
    rig.stale["BTCUSDT"] = False
    assert "REDUCING" in reasons(await rig.send(sig(time=T0 + 301_000)))  # needs an explicit reset
    await rig.breakers.reset("stale_data")
    assert isinstance(await rig.send(sig(time=T0 + 302_000)), SignalValidated)
    await rig.bus.stop()


async def test_unrealized_loss_trips_the_daily_limit_until_the_next_utc_day() -> None:
    rig = await Rig().start()
    position = open_position(qty="0.5", entry="60000", strategy_id="manual")
    await rig.publish(Topic.POSITION_UPDATED, PositionUpdated(position, Decimal(60_000)))
    await rig.publish(Topic.POSITION_UPDATED, PositionUpdated(position, Decimal(59_000)))  # −500 = −5 %
    assert rig.risk.trading_state is TradingState.REDUCING
    assert any("daily_loss" in alert.message for alert in rig.out[Topic.ALERT])
    assert "REDUCING" in reasons(await rig.send(sig()))
    rig.clock.set((T0 // DAY + 1) * DAY + 60_000)
    await rig.breakers.refresh()
    assert rig.risk.trading_state.value == "ACTIVE"
    await rig.bus.stop()


async def test_deferred_equity_reaches_the_breakers_only_after_the_account_is_settled() -> None:
    """Start-up: a half-reconciled account (here −5 %) must not trip anything; once re-based and
    resumed, the breakers measure from the settled equity and see later losses as usual."""
    rig = Rig()
    rig.risk.defer_equity_observation()
    await rig.start()
    position = open_position(qty="0.5", entry="60000", strategy_id="manual")
    await rig.publish(Topic.POSITION_UPDATED, PositionUpdated(position, Decimal(59_000)))  # −500 = −5 %
    assert rig.risk.trading_state.value == "ACTIVE" and rig.breakers.book.last_equity is None
    rig.account.set_equity(Decimal(10_000))  # the re-base on the exchange's figure
    await rig.risk.resume_equity_observation()
    assert rig.breakers.book.last_equity == Decimal(10_000) and rig.risk.trading_state.value == "ACTIVE"
    await rig.publish(Topic.POSITION_UPDATED, PositionUpdated(position, Decimal(58_000)))  # a real −5 %
    assert rig.risk.trading_state is TradingState.REDUCING
    await rig.bus.stop()


async def test_stop_out_starts_a_cooldown_and_counts_toward_the_loss_streak() -> None:
    limits = LIMITS.model_copy(update={"max_consecutive_losses": 2})
    rig = await Rig(limits=limits).start()
    for n in range(2):
        position = open_position(qty="0.01", pid=f"p{n}")
        closed = replace(
            position,
            qty=Decimal(0),
            realized_pnl=Decimal(-6),
            closed_at=rig.clock.now_ms(),
            trade_ids=position.trade_ids | {"exit"},
        )
        await rig.publish(Topic.POSITION_UPDATED, PositionUpdated(position, Decimal(60_000)))
        await rig.publish(Topic.POSITION_CLOSED, PositionClosed(closed))
        if n == 0:
            assert "cooldown" in reasons(await rig.send(sig(time=T0 + 1)))
            assert rig.risk.trading_state.value == "ACTIVE"
    assert rig.risk.trading_state is TradingState.REDUCING
    assert rig.account.equity() == Decimal(9_988)
    await rig.bus.stop()


async def test_hot_reload_tightens_and_rejects_invalid_limits() -> None:
    rig = await Rig().start()
    await rig.publish(Topic.RISK_CONFIG_UPDATED, ConfigUpdated(2, "risk", {"max_open_positions": 0}))
    assert any("rejected" in alert.message for alert in rig.out[Topic.ALERT])
    assert rig.risk.limits == LIMITS
    tighter = {**LIMITS.model_dump(mode="json"), "min_reward_risk": "3"}
    await rig.publish(Topic.RISK_CONFIG_UPDATED, ConfigUpdated(3, "risk", tighter))
    assert "reward:risk 2.33 below minimum 3 after fees" in reasons(await rig.send(sig()))
    await rig.bus.stop()


async def test_loosening_never_applies_to_a_signal_already_in_flight() -> None:
    strict = LIMITS.model_copy(update={"min_reward_risk": Decimal(3)})
    rig = Rig(limits=strict)
    await rig.breakers.load()
    # published before the bus runs: the signal is in flight when the looser limits arrive
    await rig.bus.publish(Topic.SIGNAL_GENERATED, SignalGenerated(sig()))
    loose = {**strict.model_dump(mode="json"), "min_reward_risk": "1"}
    await rig.bus.publish(Topic.RISK_CONFIG_UPDATED, ConfigUpdated(2, "risk", loose))
    await rig.bus.start()
    await rig.bus.wait_idle()
    (rejected,) = rig.out[Topic.SIGNAL_REJECTED]
    assert "below minimum 3" in " ".join(rejected.reasons)
    assert rig.risk.limits.min_reward_risk == Decimal(1)
    # a signal published after the update gets the new limits
    assert isinstance(await rig.send(sig(time=T0 + 1)), SignalValidated)
    await rig.bus.stop()


async def test_current_price_from_klines_drives_the_slippage_check() -> None:
    rig = await Rig().start()
    bar = Candle(
        "BTCUSDT",
        Timeframe.M1,
        T0,
        Decimal(60_500),
        Decimal(60_500),
        Decimal(60_500),
        Decimal(60_500),
        Decimal(1),
        closed=False,
    )
    await rig.publish(Topic.KLINE_UPDATED, KlineUpdated(bar))
    assert "price moved" in reasons(await rig.send(sig()))
    await rig.bus.stop()


async def test_unknown_instrument_is_rejected() -> None:
    rig = await Rig().start()
    assert "no instrument filters" in reasons(await rig.send(sig(symbol="DOGEUSDT")))
    await rig.bus.stop()


async def test_breaker_state_persists_in_sqlite_across_restart(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "risk.db")
    db = Database(url)
    db.upgrade()
    rig = await Rig(store=SqlKeyValueStore(db)).start()
    await rig.breakers.trip("reconciliation_mismatch", message="unknown order on venue")
    await rig.bus.stop()
    await db.close()

    reopened = Database(url)
    again = await Rig(store=SqlKeyValueStore(reopened)).start()
    assert again.risk.trading_state is TradingState.HALTED
    assert "HALTED" in reasons(await again.send(sig()))
    await again.breakers.reset("reconciliation_mismatch")
    assert isinstance(await again.send(sig(time=T0 + 1)), SignalValidated)
    await again.bus.stop()
    await reopened.close()


async def test_poll_notices_a_silent_stale_feed() -> None:
    rig = await Rig().start()
    rig.stale["BTCUSDT"] = True
    await rig.risk.poll()
    rig.clock.advance(299)
    await rig.risk.poll()
    assert rig.risk.trading_state.value == "ACTIVE"
    rig.clock.advance(1)
    await rig.risk.poll()
    assert rig.risk.trading_state is TradingState.REDUCING
    await rig.bus.stop()


async def test_an_internal_error_rejects_the_signal_and_alerts() -> None:
    rig = await Rig().start()

    def broken(symbol: str) -> bool:
        raise RuntimeError("feed monitor crashed")

    rig.risk._data_stale = broken  # simulate a faulty collaborator
    assert "internal risk error" in reasons(await rig.send(sig()))
    assert any("risk validation failed" in alert.message for alert in rig.out[Topic.ALERT])
    await rig.bus.stop()


async def test_status_summary() -> None:
    rig = await Rig().start()
    await rig.breakers.trip("manual", message="operator")
    status = rig.risk.status()
    assert status["trading_state"] == "HALTED"
    assert status["breakers"][0]["reason"] == "manual"
    assert status["equity"] == "10000"
    assert status["limits"]["min_reward_risk"] == "2"
    await rig.bus.stop()


async def test_in_flight_signal_gets_the_smaller_size_of_old_and_new_limits() -> None:
    wide = LIMITS.model_copy(
        update={
            "max_open_positions": 10,
            "max_open_positions_per_symbol": 10,
            "max_symbol_exposure_pct": Decimal(1000),
            "max_total_exposure_pct": Decimal(1000),
        }
    )
    rig = await Rig(limits=wide).start()
    one_pct = await rig.risk.evaluate(sig(), seq=1)
    rig.risk.update_limits(wide.model_copy(update={"risk_per_trade_pct": Decimal("0.5")}), seq=10)
    tighter = await rig.risk.evaluate(sig(time=T0 + 1, strategy_id="s2"), seq=5)  # published before the update
    rig.risk.update_limits(wide.model_copy(update={"risk_per_trade_pct": Decimal(2)}), seq=20)
    looser_in_flight = await rig.risk.evaluate(sig(time=T0 + 2, strategy_id="s3"), seq=15)
    looser_after = await rig.risk.evaluate(sig(time=T0 + 3, strategy_id="s4"), seq=25)
    sizes = [getattr(r, "quantity", None) for r in (one_pct, tighter, looser_in_flight, looser_after)]
    # 1 %: 100 / 719.4; 0.5 %: 50 / 719.4; in flight at 0.5 % stays 0.5 %; after: 2 % capped at 1x equity
    assert sizes == [Decimal("0.13900"), Decimal("0.06950"), Decimal("0.06950"), Decimal("0.16666")]
    await rig.bus.stop()
