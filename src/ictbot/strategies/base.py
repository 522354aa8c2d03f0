"""The strategy contract: a frozen typed config plus ``on_candle(context) -> Signal | None``.

A strategy is a pure decision function over what was known at the candle's close. It never sleeps,
never talks to an exchange and never asks whether it runs live, on paper or in a backtest: the same
object is driven by the bus (``StrategyService``) or called directly (``StrategyRunner``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ictbot.domain.candle import Candle
from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.position import Position
from ictbot.domain.signal import Signal
from ictbot.domain.timeframe import Timeframe

LIVE_WARMUP_CANDLES = 3000
"""Base candles of history ``ictbot run`` feeds the indicator engine before trading (app.wiring)."""


class StrategyConfig(BaseModel):
    """Parameters shared by every strategy. Subclasses add their own fields.

    Frozen (a running strategy's parameters change only by building a new instance) and
    ``extra="forbid"`` (a misspelt parameter is an error, not a silently ignored key).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbols: tuple[str, ...] = Field(
        default=(), description="Symbols this strategy trades (upper case); empty means every symbol."
    )
    base_timeframe: str = Field(default="5m", description="Timeframe whose closed candles drive decisions.")

    @field_validator("symbols")
    @classmethod
    def _upper_symbols(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(symbol.strip().upper() for symbol in value)

    @field_validator("base_timeframe")
    @classmethod
    def _known_timeframe(cls, value: str) -> str:
        return Timeframe.parse(value).value

    def trades(self, symbol: str) -> bool:
        return not self.symbols or symbol.upper() in self.symbols


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """Everything a strategy may look at when a base candle closes.

    ``positions`` holds only the open positions of the strategy being asked (and of this symbol).
    """

    candle: Candle
    snapshot: IndicatorSnapshot
    positions: tuple[Position, ...] = ()

    @property
    def symbol(self) -> str:
        return self.snapshot.symbol

    @property
    def time(self) -> int:
        return self.snapshot.time


@runtime_checkable
class Strategy(Protocol):
    """What the registry and runner need from a strategy object."""

    @property
    def id(self) -> str: ...

    @property
    def config(self) -> StrategyConfig: ...

    @property
    def required_timeframes(self) -> tuple[str, ...]: ...

    def on_candle(self, context: StrategyContext) -> Signal | None: ...


def declared_warmup(strategy: Strategy) -> int:
    """The strategy's ``warmup_candles`` (0 for a strategy object that does not declare one)."""
    value = getattr(strategy, "warmup_candles", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{strategy.id}: warmup_candles must be a whole number >= 0, got {value!r}")
    return value


class DecisionCalendar(Protocol):
    """What a backtest knows in advance about a whole series (from the batch indicator kernels)."""

    def new_event_candles(self, timeframe: str, kinds: Sequence[str],
                          direction: int | None = None) -> npt.NDArray[np.int64]:
        """Base candle indexes at whose close an event of ``kinds`` (and ``direction``) on ``timeframe`` is
        newly confirmed (it is in that view's ``new_events``; its ``confirm_time`` may equal the snapshot's)."""
        ...

    def new_events_with_parents(self, timeframe: str, kinds: Sequence[str], direction: int | None = None
                                ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """One entry per event of ``kinds`` (and ``direction``) on ``timeframe``: the base candle at whose
        close it is new, and the ``confirm_time`` of the event its ``parent_id`` names (−1 if none)."""
        ...

    def event_times(self, timeframe: str, kinds: Sequence[str], direction: int | None = None) -> npt.NDArray[np.int64]:
        """Ascending ``confirm_time`` of every event of ``kinds`` (and ``direction``) on ``timeframe``."""
        ...

    def close_times(self) -> npt.NDArray[np.int64]:
        """Per base candle: its close time (the snapshot's ``time``)."""
        ...

    def trend(self, timeframe: str, source: str = "trend") -> npt.NDArray[np.int64]:
        """Per base candle: the ``timeframe`` view's ``trend`` (or ``swing_trend``); 0 where it has no view."""
        ...

    def window_mask(self, names: Sequence[str]) -> npt.NDArray[np.bool_]:
        """Per base candle: whether the snapshot's ``active_windows`` holds any of ``names``."""
        ...


@runtime_checkable
class CalendarStrategy(Protocol):
    """Optional backtest fast path: a superset of the candles where ``on_candle`` can return a signal.

    The backtest then asks the strategy only at those candles (with the same snapshots); a candle left
    out that would have produced a signal changes the result, which the parity tests would show.
    """

    def decision_candles(self, calendar: DecisionCalendar) -> npt.NDArray[np.int64]: ...


ConfigT = TypeVar("ConfigT", bound=StrategyConfig)


class BaseStrategy(Generic[ConfigT]):
    """Convenience base: holds the id and validated config; subclasses implement ``on_candle``.

    ``config_model`` names the pydantic model used to validate ``params`` from configuration;
    ``kind`` is the name under which the class is registered (``"strategy_a"``).
    """

    kind: ClassVar[str] = ""
    config_model: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, config: ConfigT, strategy_id: str | None = None) -> None:
        self._config = config
        self._id = strategy_id or self.kind or type(self).__name__

    @classmethod
    def from_params(cls, params: Mapping[str, Any], strategy_id: str | None = None) -> BaseStrategy[Any]:
        """Validate ``params`` with ``config_model`` (raises ``pydantic.ValidationError``)."""
        return cls(cls.config_model.model_validate(dict(params)), strategy_id)  # type: ignore[arg-type]

    @classmethod
    def from_params_factory(cls) -> Callable[[Mapping[str, Any], str], BaseStrategy[Any]]:
        """A registry factory ``(params, strategy_id) -> strategy`` for this class."""

        def factory(params: Mapping[str, Any], strategy_id: str) -> BaseStrategy[Any]:
            return cls.from_params(params, strategy_id)

        return factory

    @property
    def id(self) -> str:
        return self._id

    @property
    def config(self) -> ConfigT:
        return self._config

    @property
    def required_timeframes(self) -> tuple[str, ...]:
        return (self._config.base_timeframe,)

    @property
    def warmup_candles(self) -> int:
        """Closed base candles of history this strategy needs before its decisions can be trusted:
        from the candle after them on, a run started later must decide exactly as one started
        earlier (``ictbot analyze recursive`` checks it). 0: no history needed."""
        return 0

    def on_candle(self, context: StrategyContext) -> Signal | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self._id!r})"
