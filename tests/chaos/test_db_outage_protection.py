"""Found 2 of docs/reliability.md, targeted: the database goes away as the OCO's reply comes back.

Campaign seed 5007 (PostgreSQL; a lost entry reply, a lost execution report and a connection loss)
ended with the stop filled on the exchange and the bot still holding the position, the stop's fill
never recorded. This is that combination made deterministic: in-process bot on PostgreSQL, stepped
simulator; the database refuses every connection from the moment the protective OCO is accepted
until a few seconds later (so the OCO's acknowledgement cannot be journaled), and the exit's
execution reports are lost. Once the database is back, reconciliation must close the position with
the exchange's trades, each booked once.
"""

from __future__ import annotations

import asyncio
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ictbot.app.application import Application
from ictbot.app.binance_wiring import PAPER_API_KEY
from ictbot.app.settings import Settings, TradingMode
from ictbot.app.wiring import Pipeline, build_pipeline
from ictbot.exchange_sim import SimulatorServer
from tests.chaos.outages import pg_accept, pg_refuse
from tests.conftest import require_service
from tests.integration.risk.restart_support import SYMBOL, buy_manually, held_base, simulator, step

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _start_on(url: str, tmp_path: Path, sim: SimulatorServer) -> tuple[Application, Pipeline]:
    config_file = tmp_path / "config.json"
    # The plain path (entry, then the bot's own OCO): the scenario is the OCO's reply meeting a dead database.
    config_file.write_text(json.dumps({"exchange": {"symbols": [SYMBOL], "base_timeframe": "5m",
                                                    "context_timeframes": ["15m", "1h"]},
                                       "execution": {"entry_lists": False}}))
    settings = Settings(TRADING_MODE=TradingMode.PAPER, DATABASE_URL=url,  # type: ignore[call-arg]
                        ICTBOT_CONFIG_FILE=config_file, LOG_DIR=tmp_path)
    application = Application(settings)
    application.config.load()
    pipeline = build_pipeline(application, clock=sim.clock, sim_port=sim.port, warmup_candles=300)
    await application.start()
    return application, pipeline


@pytest.mark.slow  # ~60 s on an idle machine (the bot runs on without its database for a while), 200 s loaded
@pytest.mark.postgres
@pytest.mark.timeout(400)
async def test_oco_acknowledged_while_the_database_is_down_still_closes_on_the_stop(tmp_path: Path) -> None:
    require_service("postgres")
    database = f"chaos_oco_outage_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    sim = simulator()
    await sim.start()
    try:
        application, pipeline = await _start_on(f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
                                                tmp_path, sim)
        try:
            outages = _cut_database_after_first_oco(pipeline, sim, database)
            await step(application, pipeline, sim, 2)
            await buy_manually(application, pipeline, sim, stop="0.996", target="1.016")
            assert outages == [1], "the OCO was never placed: the scenario did not happen"
            for _ in range(4):  # the bot goes on without its database for a few candles
                await sim.control.step(1)
                await asyncio.sleep(0.5)
            pg_accept(PG_ADMIN_URL, database)
            for _ in range(400):
                if held_base(sim) < Decimal("0.001"):
                    break
                await step(application, pipeline, sim, 1)
            assert held_base(sim) < Decimal("0.001"), "the exit did not fill: the scenario did not happen"
            for _ in range(3):
                await pipeline.execution.reconcile("periodic")
                await pipeline.execution.executor.drain()
                await application.bus.wait_idle()
            still_open = [(p.id, p.qty) for p in pipeline.execution.positions.open_positions()]
            exchange_trades = sorted(str(t.trade_id) for t in sim.control.trades(PAPER_API_KEY, SYMBOL))
            bot_trades = sorted(str(fill.trade_id) for fill in await pipeline.fills.recent(SYMBOL, limit=1000))
        finally:
            await application.stop()
    finally:
        await sim.stop()
        pg_accept(PG_ADMIN_URL, database)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    assert still_open == []
    assert bot_trades == exchange_trades and len(exchange_trades) >= 2  # the entry and the exit, once each


def _cut_database_after_first_oco(pipeline: Pipeline, sim: SimulatorServer, database: str) -> list[int]:
    """The first OCO reaches the exchange; before its reply is handled, the database goes away and the
    exit's execution reports (stop fill, target expiry) are lost. Returns the count of cuts made."""
    place_oco = pipeline.venue.place_oco
    cuts: list[int] = []

    async def placed_then_cut(*args: Any, **kwargs: Any) -> Any:
        reports = await place_oco(*args, **kwargs)
        if not cuts:
            pg_refuse(PG_ADMIN_URL, database)
            sim.control.drop_next_events("executionReport", 2)
            cuts.append(1)
        return reports

    pipeline.venue.place_oco = placed_then_cut  # type: ignore[method-assign]
    return cuts
