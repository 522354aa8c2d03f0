"""Wires the stages into an ``Application`` for ``ictbot run`` and ``ictbot demo``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ictbot.app.api_server import ApiServerService
from ictbot.app.application import Application
from ictbot.app.settings import Settings, TradingMode

log = structlog.get_logger(__name__)


def minimal_api(application: Application) -> FastAPI:
    """Health only: used when the bot runs without its trading pipeline (tests of the lifecycle)."""
    api = FastAPI(title="ictbot", docs_url=None, redoc_url=None, openapi_url=None)

    @api.get("/health")
    async def health() -> JSONResponse:
        status = application.orchestrator.get_health_status()
        return JSONResponse(status, status_code=200 if status["status"] == "healthy" else 503)

    return api


def attach_api(application: Application, pipeline: Any | None) -> ApiServerService:
    """Register the API server; with a pipeline it is the full API over the trading facade."""
    settings = application.settings
    asgi: Any
    if pipeline is None:
        asgi = minimal_api(application)
    else:
        from ictbot.app.facade import build_api

        asgi = build_api(application, pipeline)
    api = ApiServerService(asgi, settings.api_host, settings.api_port)
    depends = ["config"] if pipeline is None else ["config", "monitoring", "execution"]
    application.register(api, depends_on=depends)
    return api


def build_application(settings: Settings) -> Application:
    application = Application(settings)
    attach_api(application, None)
    return application


async def run_bot(settings: Settings, *, data: list[Path] | None = None, speed: float = 60.0,
                  duration: float | None = None) -> list[tuple[str, BaseException]]:
    """``ictbot run``: paper mode starts the simulator in-process; testnet/live talk to Binance."""
    from ictbot.app.wiring import build_pipeline, wall_timer_scale

    sim = None
    application = Application(settings)
    application.config.load()
    try:
        if settings.trading_mode is TradingMode.PAPER:
            from ictbot.exchange_sim import SimConfig, SimulatorServer

            exchange = application.config.config.exchange
            sim = SimulatorServer(SimConfig(
                symbols=tuple(exchange.symbols), data_paths=tuple(str(p) for p in data or []), speed=speed,
                synthetic_timeframe=exchange.base_timeframe, warmup_candles=3000, synthetic_candles=50_000,
                verify_timestamps=speed <= 10,  # recvWindow is in simulated time (see app/demo.py)
                # The paper exchange keeps its accounts and open orders across restarts, as Binance
                # would, so the bot's reconciliation finds what its journal expects.
                state_file=str(settings.database_path.with_name("paper_exchange.state")),
            ))
            await sim.start()
            pipeline = build_pipeline(application, clock=sim.clock, sim_port=sim.port,
                                      timer_scale=wall_timer_scale(speed))
        else:
            pipeline = build_pipeline(application)
        api = attach_api(application, pipeline)

        def started(app: Application) -> None:
            log.info("ictbot running", mode=settings.trading_mode.value, api=api.url)

        return await application.run(on_started=started, duration=duration)
    finally:
        if sim is not None:
            with contextlib.suppress(Exception):
                await sim.stop()
