"""What the dashboard reads besides the ``TradingFacade``: the symbols' price and quantity steps, the
ICT picture as of a past candle, and backtests started from the page.

Separate, optional ports so the facade protocol stays as it is: the API serves each feature only when
the facade also implements its protocol (the pipeline's implements all three).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ictbot.domain.timeframe import Timeframe

if TYPE_CHECKING:
    from ictbot.domain.ict import IndicatorSnapshot


class InstrumentView(BaseModel):
    """A symbol's filters the dashboard needs to show prices and quantities as the exchange does."""

    model_config = ConfigDict(frozen=True)
    symbol: str
    market: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal


@runtime_checkable
class MarketInfo(Protocol):
    async def instruments(self) -> list[InstrumentView]: ...


@runtime_checkable
class IndicatorHistory(Protocol):
    async def indicators_at(self, symbol: str, at_ms: int) -> IndicatorSnapshot:
        """The snapshot as the engine had it once the base candle closing at or before ``at_ms`` had
        closed, computed from stored candles that closed by then only (no later candle is read).
        Raises ``NotFound`` for an unknown symbol or when no candle had closed by then."""
        ...


Milliseconds = Annotated[int, Field(ge=0, le=10**14)]
JobState = Literal["running", "done", "failed", "cancelled"]


class BacktestJobRequest(BaseModel):
    """A backtest over the candles the bot has stored, as ``ictbot backtest`` runs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    strategy: str = Field(min_length=1, max_length=300, description="a kind (strategy_a, s1_ema_cross, ...) "
                          "or a user file path/to/my_strategy.py:ClassName, as --strategy takes")
    symbol: str = Field(min_length=2, max_length=20, pattern=r"^[A-Z0-9]+$")
    timeframe: Timeframe = Field(description="strategy timeframe: the base timeframe or a multiple of it")
    start_ms: Milliseconds = Field(description="first candle (open time, ms UTC)")
    end_ms: Milliseconds = Field(description="end, exclusive (ms UTC); after start_ms")


class BacktestJobView(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    state: JobState
    strategy: str
    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    done: int = Field(description="candles run so far")
    total: int = Field(description="candles to run (0 until the worker has loaded them)")
    percent: float
    started_ms: int
    finished_ms: int | None = None
    result: str | None = Field(default=None, description="the results file in the --reports folder, once done")
    error: str | None = None
    phase: str | None = Field(default=None, description="while running, what the worker does before its first "
                              "candle (e.g. compiling the indicator kernels, first run of an install only)")


class BacktestJobList(BaseModel):
    model_config = ConfigDict(frozen=True)
    available: bool
    reason: str | None = Field(default=None, description="why backtests cannot be started, when not available")
    max_jobs: int
    items: list[BacktestJobView] = Field(default_factory=list)


@runtime_checkable
class BacktestJobs(Protocol):
    """Backtests run in worker processes, at most ``max_jobs`` at once; results go to ``--reports``."""

    async def backtest_jobs(self) -> BacktestJobList: ...

    async def start_backtest(self, request: BacktestJobRequest) -> BacktestJobView:
        """Raises ``ValidationFailed`` (field and reason) or ``Conflict`` (unavailable, too many)."""
        ...

    async def backtest_job(self, job_id: str) -> BacktestJobView: ...

    async def cancel_backtest(self, job_id: str) -> BacktestJobView: ...

    async def stop_backtests(self) -> None:
        """Terminate every running worker: the server is stopping."""
        ...
