from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ictbot.domain.errors import ConfigError
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.strategies import (
    BaseStrategy,
    StrategyConfig,
    StrategyContext,
    StrategyRegistry,
    StrategyRunner,
    default_strategies_config,
)
from ictbot.strategies.builtin import StrategyA
from tests.unit.risk.support import open_position
from tests.unit.strategies.snapshots import T, candle, snapshot, view


class EchoConfig(StrategyConfig):
    stop_offset: float = 1.0


class Echo(BaseStrategy[EchoConfig]):
    """Signals on every candle; raises when the close is 13 (to test isolation)."""

    kind: ClassVar[str] = "echo"
    config_model: ClassVar[type[StrategyConfig]] = EchoConfig
    seen_positions: ClassVar[list[int]] = []

    def on_candle(self, context: StrategyContext) -> Signal | None:
        Echo.seen_positions.append(len(context.positions))
        if context.candle.close == 13:
            raise RuntimeError("unlucky candle")
        close = context.candle.close
        return Signal(self.id, context.symbol, Direction.LONG, EntryType.MARKET, close - 1, (close + 2,),
                      context.time, reference_price=close)


def context(close: float = 100.0, symbol: str = "BTCUSDT", positions: tuple[Any, ...] = ()) -> StrategyContext:
    bar = candle(open=close, high=close, low=close, close=close, symbol=symbol)
    return StrategyContext(candle=bar, snapshot=snapshot({"5m": view("5m")}, symbol=symbol), positions=positions)


def registry_with_echo(**kwargs: Any) -> StrategyRegistry:
    registry = StrategyRegistry(**kwargs)
    registry.register_kind("echo", Echo.from_params_factory())
    return registry


def test_builtins_are_known_and_default_config_is_valid() -> None:
    registry = StrategyRegistry()
    assert {"strategy_a", "strategy_b"} <= set(registry.kinds)
    assert registry.validate_config(default_strategies_config()) == []
    registry.configure(default_strategies_config())
    assert isinstance(registry.get("strategy_a"), StrategyA)
    assert registry.get("strategy_a").id == "strategy_a"


def test_invalid_config_reports_paths_and_changes_nothing() -> None:
    registry = StrategyRegistry()
    registry.configure(default_strategies_config())
    bad = {
        "strategy_a": {"enabled": True, "params": {"min_reward_risk": -1}},
        "mystery": {"enabled": True},
        "strategy_b": {"enable": True},
    }
    problems = dict(registry.validate_config(bad))
    assert "strategies.strategy_a.params.min_reward_risk" in problems
    assert "unknown kind 'mystery'" in problems["strategies.mystery.type"]
    assert "strategies.strategy_b.enable" in problems
    with pytest.raises(ConfigError):
        registry.configure(bad)
    assert registry.get("strategy_a").config.min_reward_risk == 2.0  # type: ignore[attr-defined]


def test_two_instances_of_one_kind_with_own_params() -> None:
    registry = StrategyRegistry()
    registry.configure({"a_fast": {"type": "strategy_a", "params": {"min_reward_risk": 1.5}}, "strategy_a": {}})
    assert registry.get("a_fast").config.min_reward_risk == 1.5  # type: ignore[attr-defined]
    assert registry.get("a_fast").id == "a_fast"


def test_set_enabled_and_config_driven_enable() -> None:
    registry = registry_with_echo()
    registry.configure({"e": {"type": "echo"}})
    runner = StrategyRunner(registry)
    assert len(runner.evaluate(context())) == 1
    registry.set_enabled("e", False)
    assert runner.evaluate(context()) == []
    registry.configure({"e": {"type": "echo"}})  # unchanged entry: the runtime switch stands
    assert not registry.is_enabled("e")
    registry.configure({"e": {"type": "echo", "enabled": False}})
    assert not registry.is_enabled("e")
    registry.configure({"e": {"type": "echo", "enabled": True}})  # changed entry: applied
    assert registry.is_enabled("e")
    registry.configure({})
    assert not registry.is_enabled("e")
    with pytest.raises(KeyError):
        registry.set_enabled("nope", True)


def test_params_change_rebuilds_the_instance() -> None:
    registry = registry_with_echo()
    registry.configure({"e": {"type": "echo"}})
    first = registry.get("e")
    registry.configure({"e": {"type": "echo"}})
    assert registry.get("e") is first
    registry.configure({"e": {"type": "echo", "params": {"stop_offset": 2}}})
    assert registry.get("e") is not first


def test_failing_strategy_is_isolated_counted_and_disabled_with_an_alert() -> None:
    registry = registry_with_echo(max_consecutive_errors=3)
    registry.configure({"bad": {"type": "echo"}, "good": {"type": "echo"}})
    runner = StrategyRunner(registry)
    assert len(runner.evaluate(context(13))) == 0
    assert len(runner.evaluate(context(100))) == 2  # a success resets the streak
    for _ in range(2):
        runner.evaluate(context(13))
    assert registry.is_enabled("bad") and runner.drain_alerts() == []
    runner.evaluate(context(13))
    status = {s.id: s for s in registry.status()}
    assert not status["bad"].enabled and status["bad"].total_errors == 4
    assert "RuntimeError: unlucky candle" in (status["bad"].last_error or "")
    alerts = runner.drain_alerts()
    assert [a.source for a in alerts] == ["strategy:bad", "strategy:good"]
    # an unchanged config re-sent does not re-enable it; an explicit set_enabled does
    registry.configure({"bad": {"type": "echo"}, "good": {"type": "echo"}})
    assert not registry.is_enabled("bad")
    registry.set_enabled("bad", True)
    assert registry.is_enabled("bad")


def test_runner_checks_outputs_and_filters_symbols_and_positions() -> None:
    class Liar(Echo):
        kind: ClassVar[str] = "liar"

        def on_candle(self, context: StrategyContext) -> Signal | None:
            signal = super().on_candle(context)
            assert signal is not None
            return Signal("someone-else", signal.symbol, signal.direction, signal.entry_type, signal.stop_loss,
                          signal.take_profits, signal.time, reference_price=signal.reference_price)

    registry = registry_with_echo()
    registry.register_kind("liar", Liar.from_params_factory())
    registry.configure({"e": {"type": "echo", "params": {"symbols": ["ethusdt"]}}, "l": {"type": "liar"}})
    runner = StrategyRunner(registry)
    assert runner.evaluate(context(symbol="BTCUSDT")) == []
    assert {s.strategy_id for s in runner.evaluate(context(symbol="ETHUSDT"))} == {"e"}
    assert {s.id: s.consecutive_errors for s in registry.status()}["l"] == 2
    Echo.seen_positions.clear()
    mine = open_position("ETHUSDT", pid="m", strategy_id="e")
    theirs = open_position("ETHUSDT", pid="t", strategy_id="other")
    runner.evaluate(context(symbol="ETHUSDT", positions=(mine, theirs)))
    assert Echo.seen_positions[0] == 1  # e sees only its own position


def test_missing_timeframe_view_skips_the_strategy() -> None:
    registry = StrategyRegistry()
    registry.configure({"strategy_a": {}})
    assert StrategyRunner(registry).evaluate(context()) == []
    assert registry.status()[0].total_errors == 0


def test_load_user_strategy_from_folder_and_dotted_path(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "breakout.py").write_text(textwrap.dedent('''
        from typing import ClassVar
        from ictbot.strategies import BaseStrategy, StrategyConfig, StrategyContext

        class BreakoutConfig(StrategyConfig):
            lookback: int = 20

        class Breakout(BaseStrategy[BreakoutConfig]):
            kind: ClassVar[str] = "breakout"
            config_model: ClassVar[type[StrategyConfig]] = BreakoutConfig

            def on_candle(self, context: StrategyContext) -> None:
                return None
    '''))
    (folder / "_private.py").write_text("raise RuntimeError('never imported')\n")
    registry = StrategyRegistry()
    registry.configure({"bo": {"type": "breakout", "source": str(folder), "params": {"lookback": 5}}})
    assert registry.get("bo").config.lookback == 5  # type: ignore[attr-defined]
    assert "breakout" in registry.kinds

    preloaded = StrategyRegistry(sources=[str(folder), "tests.unit.strategies.test_registry:Echo"])
    assert {"breakout", "echo"} <= set(preloaded.kinds)
    other = StrategyRegistry()
    assert other.load_source("tests.unit.strategies.test_registry:Echo") == ["echo"]
    with pytest.raises(ConfigError):
        other.load_source("tests.unit.strategies.test_registry:context")
    with pytest.raises(ConfigError):
        other.load_source("no.such.module")
    (tmp_path / "broken.py").write_text("import nonexistent_module_xyz\n")
    with pytest.raises(ConfigError) as info:
        other.load_source(str(tmp_path / "broken.py"))
    assert "broken.py" in str(info.value)


def test_signal_time_must_be_the_candle_close() -> None:
    assert T > 0  # snapshots use T as close time; Echo signals at context.time
    registry = registry_with_echo()
    registry.configure({"e": {"type": "echo"}})
    (signal,) = StrategyRunner(registry).evaluate(context())
    assert signal.time == T


def test_entry_level_symbols_and_max_positions_are_shorthands_for_params() -> None:
    registry = StrategyRegistry()
    registry.configure({
        "strategy_a": {"symbols": ["ethusdt"], "max_positions": 2},
        "strategy_b": {"symbols": ["BTCUSDT"], "params": {"symbols": ["SOLUSDT"], "max_open_positions": 3},
                       "max_positions": 1},
    })
    a, b = registry.get("strategy_a").config, registry.get("strategy_b").config
    assert a.symbols == ("ETHUSDT",) and a.max_open_positions == 2  # type: ignore[attr-defined]
    assert b.symbols == ("SOLUSDT",) and b.max_open_positions == 3  # type: ignore[attr-defined]
    first = registry.get("strategy_a")
    registry.configure({"strategy_a": {"symbols": ["ethusdt"], "max_positions": 3}})
    assert registry.get("strategy_a") is not first  # a shorthand change rebuilds


def test_registering_a_kind_without_a_config_model_ignores_max_positions() -> None:
    registry = registry_with_echo()
    registry.configure({"e": {"type": "echo", "max_positions": 4, "symbols": ["ETHUSDT"]}})
    assert registry.get("e").config.symbols == ("ETHUSDT",)
