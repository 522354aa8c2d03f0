"""The offline demo: the Binance-protocol simulator and the bot against it, in one process.

The bot uses the real Binance adapter (REST + WebSocket over 127.0.0.1), SQLite, the in-process bus
and the API; it runs on the simulator's clock so a replay at N× real time is N× faster for every
stage (candle closes, timeouts, daily limits) alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import webbrowser
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from ictbot.app.application import Application
from ictbot.app.settings import Settings, TradingMode
from ictbot.bus import Envelope, Topic
from ictbot.domain.timeframe import Timeframe

log = structlog.get_logger(__name__)

DEMO_SYMBOLS = ("BTCUSDT", "ETHUSDT")
DEMO_SPEED = 6000.0  # a 5m candle every 50 ms per symbol: signals within a minute
DEMO_HISTORY = 3_000  # base candles of history before the replay starts (indicator warm-up)


@dataclass
class DemoCounters:
    candles: int = 0
    signals: int = 0
    rejected: int = 0
    validated: int = 0
    orders: set[str] = field(default_factory=set)
    fills: set[str] = field(default_factory=set)
    alerts: int = 0

    def on_event(self, envelope: Envelope) -> None:
        payload = envelope.payload
        topic = envelope.topic
        if topic is Topic.CANDLE_STORED:
            self.candles += 1
        elif topic is Topic.SIGNAL_GENERATED:
            self.signals += 1
        elif topic is Topic.SIGNAL_REJECTED:
            self.rejected += 1
        elif topic is Topic.SIGNAL_VALIDATED:
            self.validated += 1
        elif topic in (Topic.ORDER_EXECUTED, Topic.ORDER_UPDATED):
            self.orders.add(payload.order.client_order_id)
            for trade_id in payload.order.trade_ids:
                self.fills.add(f"{payload.order.symbol}:{trade_id}")
        elif topic is Topic.ALERT:
            self.alerts += 1


def demo_settings(base: Settings, workdir: Path) -> Settings:
    """Paper mode with a fresh database and its own config file, so a demo never touches real state."""
    updates: dict[str, Any] = {
        "trading_mode": TradingMode.PAPER,
        "database_path": workdir / "demo.db",
        "database_url": None,
        "config_file": workdir / "demo_config.json",
    }
    return base.model_copy(update=updates)


def prepare_workdir(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("demo.db", "demo.db-wal", "demo.db-shm", "demo_config.json", "demo_config.json.history.jsonl"):
        (workdir / name).unlink(missing_ok=True)


def demo_config(symbols: tuple[str, ...], base: Timeframe) -> dict[str, Any]:
    return {
        "exchange": {"symbols": list(symbols), "base_timeframe": base.value,
                     "context_timeframes": ["15m", "1h", "4h"]},
        "strategies": {"strategy_a": {"enabled": True}, "strategy_b": {"enabled": True}},
    }


async def run_demo(
    settings: Settings,
    *,
    data: list[Path],
    speed: float,
    duration: float | None,
    open_browser: bool,
    workdir: Path = Path("data/demo"),
    seed: int = 7,
) -> dict[str, Any]:
    from ictbot.app.system import SystemSpec, assemble
    from ictbot.exchange_sim import SimConfig, SimulatorServer

    prepare_workdir(workdir)
    settings = demo_settings(settings, workdir)
    sim_config = SimConfig(
        symbols=DEMO_SYMBOLS, data_paths=tuple(str(p) for p in data), speed=speed, seed=seed,
        synthetic_timeframe=Timeframe.M5, synthetic_candles=DEMO_HISTORY + 20_000, warmup_candles=DEMO_HISTORY,
        # recvWindow is measured in simulated time: at 600x a 5 s window is 8 ms of wall time, so the
        # demo's simulator does not enforce it (the tests of the -1021 path run at 1x or stepped).
        verify_timestamps=speed <= 10,
    )

    def config_for(sim: SimulatorServer | None) -> dict[str, Any]:
        assert sim is not None
        # The replayed files' own symbols and timeframe (BTCUSDT/ETHUSDT on 5m when synthetic).
        symbols = tuple(sim.sim.symbols) if sim.sim is not None and hasattr(sim.sim, "symbols") else DEMO_SYMBOLS
        return demo_config(tuple(symbols), Timeframe(sim.control.state()["timeframe"]))

    system = await assemble(SystemSpec(settings, simulator=sim_config, config=config_for, api=True,
                                       warmup_candles=DEMO_HISTORY))
    try:
        sim, api = system.simulator, system.api
        assert sim is not None and api is not None
        counters = DemoCounters()
        for topic in (Topic.CANDLE_STORED, Topic.SIGNAL_GENERATED, Topic.SIGNAL_REJECTED, Topic.SIGNAL_VALIDATED,
                      Topic.ORDER_EXECUTED, Topic.ORDER_UPDATED, Topic.ALERT):
            system.application.bus.subscribe(topic, counters.on_event, name=f"demo.{topic.value}")
        symbols = system.pipeline.symbols

        def started(app: Application) -> None:
            url = api.url
            print(f"\nictbot demo running: simulator {sim.base_url} (speed {speed:g}x), "
                  f"symbols {', '.join(symbols)}")
            login = _read_token_link(settings.config_file.parent / "api_token")
            if url:
                print(f"  dashboard  {url}/dashboard{login}")
                print(f"  API docs   {url}/docs          health {url}/health")
            print("  Ctrl-C stops both.\n", flush=True)
            if open_browser and url and _has_desktop():
                webbrowser.open(f"{url}/dashboard{login}")

        errors = await system.run(on_started=started, duration=duration)
        summary = await _summary(system.pipeline, counters)
        summary["stop_errors"] = [f"{name}: {exc}" for name, exc in errors]
        return summary
    finally:
        await system.stop()


def _has_desktop() -> bool:
    """On a headless server ``webbrowser`` may pick a console browser and take over the terminal."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _read_token_link(path: Path) -> str:
    """``#token=<trade token>``: the dashboard link logs in with the trade scope, so the demo's halt,
    close and strategy buttons work without a token swap (a paper account on the local simulator;
    the fragment is never sent to a server; the token file beside the config holds both tokens)."""
    try:
        tokens = json.loads(path.read_text())
    except (OSError, ValueError):
        return ""
    token = tokens.get("trade") or tokens.get("read") if isinstance(tokens, dict) else None
    return f"#token={token}" if token else ""


async def _summary(pipeline: Any, counters: DemoCounters) -> dict[str, Any]:
    positions = await pipeline.positions_repo.open_positions()
    closed = await pipeline.positions_repo.closed_positions(limit=100_000)
    equity = pipeline.account.equity()
    return {
        "candles": counters.candles,
        "signals": counters.signals,
        "validated": counters.validated,
        "rejected": counters.rejected,
        "orders": len(counters.orders),
        "fills": len(counters.fills),
        "open_positions": len(positions),
        "closed_positions": len(closed),
        "equity": str(equity.quantize(Decimal("0.01")) if isinstance(equity, Decimal) else equity),
        "alerts": counters.alerts,
    }


def run_demo_sync(settings: Settings, **kwargs: Any) -> dict[str, Any]:
    return asyncio.run(run_demo(settings, **kwargs))
