"""The composition root: the one place that assembles the running system.

``ictbot run``, ``ictbot demo``, ``ictbot backtest --via-live`` and the integration tests describe
what they want as a ``SystemSpec`` and get a ``System`` (application, pipeline, simulator, API).
What differs between them is data in the spec, not a second assembly:

* the mode (paper / testnet / live) and everything else of the process: ``settings``;
* the exchange: ``simulator`` — a ``SimConfig`` starts the Binance-protocol simulator in this
  process (owned: stopped with the system), a running ``SimulatorServer`` is used as it is (tests
  that restart the bot against the same exchange), ``None`` talks to the endpoints the settings
  name (Binance, its testnet, or a simulator in another process by URL);
* the trading configuration: ``config`` is written to the settings' config file first (a document,
  or a function of the simulator when it depends on the replayed data, as the demo's does);
  ``None`` uses the file as it is;
* the clock (the simulator's when there is one), the replay's timer scale (from the simulator's
  speed unless given), the warm-up, and whether the API is served.

Below this module, ``wiring.build_pipeline`` builds the stages (with ``binance_wiring``,
``notify_wiring`` and ``stage_links`` as its parts); nothing else calls it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ictbot.app.api_server import ApiServerService
from ictbot.app.application import Application
from ictbot.app.settings import Settings, TradingMode
from ictbot.app.wiring import Pipeline, build_pipeline, wall_timer_scale
from ictbot.filemodes import atomic_write_text
from ictbot.ports.clock import Clock

if TYPE_CHECKING:  # the simulator is imported only when a system uses one (not for testnet/live)
    from ictbot.exchange_sim import SimConfig, SimulatorServer

log = structlog.get_logger(__name__)

ConfigSource: TypeAlias = "Mapping[str, Any] | Callable[[SimulatorServer | None], Mapping[str, Any]]"


@dataclass(frozen=True)
class SystemSpec:
    settings: Settings
    simulator: SimConfig | SimulatorServer | None = None
    config: ConfigSource | None = None
    api: bool = False
    warmup_candles: int = 3000
    timer_scale: float | None = None  # None: from the simulator's replay speed (1 without one)
    clock: Clock | None = None  # None: the simulator's clock, else the system clock


@dataclass
class System:
    application: Application
    pipeline: Pipeline
    simulator: SimulatorServer | None = None
    api: ApiServerService | None = None
    owns_simulator: bool = False
    _started: bool = field(default=False, repr=False)

    async def start(self) -> None:
        self._started = True
        await self.application.start()

    async def run(self, *, on_started: Callable[[Application], Any] | None = None,
                  duration: float | None = None) -> list[tuple[str, BaseException]]:
        """Start, serve until a stop request (signal, API, ``duration``), stop. Returns stop errors."""
        self._started = True
        try:
            return await self.application.run(on_started=on_started, duration=duration)
        finally:
            self._started = False

    async def stop(self) -> list[tuple[str, BaseException]]:
        """Stop the application (when started) and the simulator this system started."""
        errors: list[tuple[str, BaseException]] = []
        try:
            if self._started:
                self._started = False
                errors = await self.application.stop()
        finally:
            if self.owns_simulator and self.simulator is not None:
                with contextlib.suppress(Exception):
                    await self.simulator.stop()
        return errors


async def assemble(spec: SystemSpec) -> System:
    """Build the system (starting the simulator the spec asks for); the caller starts it."""
    from ictbot.exchange_sim import SimConfig, SimulatorServer

    sim = spec.simulator
    owned = isinstance(sim, SimConfig)
    server = SimulatorServer(sim) if isinstance(sim, SimConfig) else sim
    if owned and server is not None:
        await server.start()
    try:
        return _build(spec, server, owned)
    except BaseException:
        if owned and server is not None:
            with contextlib.suppress(Exception):
                await server.stop()
        raise


def _build(spec: SystemSpec, sim: SimulatorServer | None, owned: bool) -> System:
    settings = spec.settings
    if spec.config is not None:
        document = spec.config(sim) if callable(spec.config) else spec.config
        atomic_write_text(settings.config_file, json.dumps(document, indent=2) + "\n")
    application = Application(settings)
    application.config.load()
    if sim is None:
        pipeline = build_pipeline(application, clock=spec.clock, warmup_candles=spec.warmup_candles,
                                  timer_scale=spec.timer_scale or 1.0)
    else:
        scale = spec.timer_scale if spec.timer_scale is not None else wall_timer_scale(sim.config.speed)
        pipeline = build_pipeline(application, clock=spec.clock or sim.clock, sim_port=sim.port,
                                  warmup_candles=spec.warmup_candles, timer_scale=scale)
    api = attach_api(application, pipeline) if spec.api else None
    return System(application, pipeline, sim, api, owns_simulator=owned)


async def start_system(spec: SystemSpec) -> System:
    """``assemble`` and start; a failed start leaves nothing running."""
    system = await assemble(spec)
    try:
        await system.start()
    except BaseException:
        await system.stop()
        raise
    return system


@contextlib.asynccontextmanager
async def running_system(spec: SystemSpec) -> AsyncIterator[System]:
    """The started system for the block's duration; stopped (simulator too, when owned) after it."""
    system = await start_system(spec)
    try:
        yield system
    finally:
        await system.stop()


# ---- the API -----------------------------------------------------------------------------------------


def minimal_api(application: Application) -> FastAPI:
    """Health only: used when the bot runs without its trading pipeline (tests of the lifecycle)."""
    api = FastAPI(title="ictbot", docs_url=None, redoc_url=None, openapi_url=None)

    @api.get("/health")
    async def health() -> JSONResponse:
        status = application.orchestrator.get_health_status()
        return JSONResponse(status, status_code=200 if status["status"] == "healthy" else 503)

    return api


def build_api(application: Application, pipeline: Pipeline) -> FastAPI:
    """The full API over the trading facade, its WebSocket feed and the Prometheus registry."""
    from ictbot.api.app import create_app
    from ictbot.api.broadcaster import Broadcaster
    from ictbot.api.settings import ApiSettings
    from ictbot.app.facade import PipelineFacade

    settings = application.settings
    api_settings = ApiSettings(
        host=settings.api_host, port=settings.api_port, token=settings.api_token,
        read_token=settings.api_read_token, cors_origins=settings.api_cors_origins,
        token_file=settings.config_file.parent / "api_token", reports_dir=settings.reports_dir,
    )
    broadcaster = Broadcaster()
    broadcaster.attach(application.bus)
    registry = pipeline.collector.prometheus.registry
    return create_app(PipelineFacade(application, pipeline), api_settings, broadcaster=broadcaster,
                      registry=registry, announce=lambda line: print(line, flush=True),
                      tasks=application.tasks)


def attach_api(application: Application, pipeline: Pipeline | None) -> ApiServerService:
    """Register the API server; with a pipeline it is the full API over the trading facade."""
    settings = application.settings
    asgi = minimal_api(application) if pipeline is None else build_api(application, pipeline)
    api = ApiServerService(asgi, settings.api_host, settings.api_port)
    depends = ["config"] if pipeline is None else ["config", "monitoring", "execution"]
    application.register(api, depends_on=depends)
    return api


def build_application(settings: Settings) -> Application:
    """The lifecycle alone (config, bus, tasks, a health-only API): no trading pipeline."""
    application = Application(settings)
    attach_api(application, None)
    return application


# ---- ictbot run ----------------------------------------------------------------------------------------


def paper_exchange(settings: Settings, *, data: list[Path] | None, speed: float) -> SimConfig:
    """``ictbot run --mode paper``: the simulator for the configured symbols, kept across restarts."""
    from ictbot.app.config_manager import ConfigManager
    from ictbot.exchange_sim import SimConfig

    exchange = ConfigManager(settings.config_file).load().exchange
    return SimConfig(
        symbols=tuple(exchange.symbols), data_paths=tuple(str(p) for p in data or []), speed=speed,
        synthetic_timeframe=exchange.base_timeframe, warmup_candles=3000, synthetic_candles=50_000,
        verify_timestamps=speed <= 10,  # recvWindow is in simulated time (see app/demo.py)
        # The paper exchange keeps its accounts and open orders across restarts, as Binance
        # would, so the bot's reconciliation finds what its journal expects.
        state_file=str(settings.database_path.with_name("paper_exchange.state")),
    )


async def run_bot(settings: Settings, *, data: list[Path] | None = None, speed: float = 60.0,
                  duration: float | None = None) -> list[tuple[str, BaseException]]:
    """``ictbot run``: paper mode starts the simulator in-process; testnet/live talk to Binance."""
    paper = settings.trading_mode is TradingMode.PAPER
    simulator = paper_exchange(settings, data=data, speed=speed) if paper else None
    system = await assemble(SystemSpec(settings, simulator=simulator, api=True))
    api = system.api

    def started(app: Application) -> None:
        log.info("ictbot running", mode=settings.trading_mode.value, api=api.url if api else "")

    try:
        return await system.run(on_started=started, duration=duration)
    finally:
        await system.stop()
