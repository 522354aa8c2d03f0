"""The whole bot against the simulator: journal records in the log file, signed webhook posts,
Telegram commands through the facade, and GET /signals' data from the journal."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ictbot.api import dto as f
from ictbot.app.application import Application
from ictbot.app.facade import PipelineFacade
from ictbot.app.logsetup import configure_logging
from ictbot.app.wiring import Pipeline
from ictbot.bus import Topic
from ictbot.domain.events import SignalGenerated
from ictbot.domain.signal import Direction
from ictbot.exchange_sim import SimulatorServer
from tests.integration.notify.fake_http import FakeHttpServer
from tests.integration.notify.fake_telegram import CHAT, TOKEN, FakeBotApi
from tests.integration.risk.restart_support import SYMBOL, buy_manually, simulator, start_bot, step, wait_for
from tests.unit.risk.support import make_signal

SECRET = "whsec-pipeline-0123"


@pytest.fixture
async def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[
        tuple[Application, Pipeline, SimulatorServer, FakeHttpServer, FakeBotApi, Path]]:
    hook, bot_api = FakeHttpServer(), FakeBotApi()
    await hook.start()
    await bot_api.server.start()
    monkeypatch.setenv("ICTBOT_WEBHOOK_URL", hook.url + "/hook")
    monkeypatch.setenv("ICTBOT_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    (tmp_path / "config.json").write_text(json.dumps({
        "exchange": {"symbols": [SYMBOL], "base_timeframe": "5m", "context_timeframes": ["15m", "1h"]},
        "notifications": {"telegram": {"chat_id": CHAT, "base_url": bot_api.server.url, "events": ["alert"],
                                       "poll_timeout_seconds": 1}},
    }))
    log_path = configure_logging("INFO", tmp_path / "logs")
    assert log_path is not None
    sim = simulator()
    await sim.start()
    application, pipeline = await start_bot(tmp_path, sim)
    try:
        yield application, pipeline, sim, hook, bot_api, log_path
    finally:
        await application.stop()
        await sim.stop()
        await hook.stop()
        await bot_api.server.stop()
        configure_logging("WARNING", None)


def journal_lines(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line for line in lines if line.get("logger") == "ictbot.journal"]


async def test_a_trade_is_journaled_posted_signed_and_commands_work(
    running: tuple[Application, Pipeline, SimulatorServer, FakeHttpServer, FakeBotApi, Path],
) -> None:
    application, pipeline, sim, hook, bot_api, log_path = running
    await step(application, pipeline, sim, 2)
    facade = PipelineFacade(application, pipeline)

    # A short on spot: the real risk engine rejects it, the journal and GET /signals say why.
    short = make_signal(direction=Direction.SHORT, symbol=SYMBOL, entry="3000", stop="3100", targets=("2800",))
    await application.bus.publish(Topic.SIGNAL_GENERATED, SignalGenerated(short))
    await application.bus.wait_idle()
    [listed] = await facade.recent_signals(f.SignalQuery(rejected_only=True))
    assert listed.signal_id == short.id and listed.accepted is False
    assert any("spot" in reason for reason in listed.reasons)

    order = await buy_manually(application, pipeline, sim)
    [position] = pipeline.execution.positions.open_positions()
    await facade.close_position(position.id, "test close")
    await wait_for(lambda: not pipeline.execution.positions.open_positions())
    await pipeline.execution.executor.drain()
    await application.bus.wait_idle()

    # Telegram: a stranger's /halt is ignored; the configured chat halts and resumes.
    bot_api.command("/halt from a stranger", chat_id=7)
    bot_api.command("/halt maintenance", chat_id=int(CHAT))
    await wait_for(lambda: pipeline.risk.trading_state.value == "HALTED")
    bot_api.command("/status", chat_id=int(CHAT))
    await wait_for(lambda: any("trading HALTED (manual" in m["text"] for m in bot_api.sent))
    bot_api.command("/resume", chat_id=int(CHAT))
    await wait_for(lambda: pipeline.risk.trading_state.value == "ACTIVE")
    await wait_for(lambda: bot_api.sent[-1]["text"] == "trading ACTIVE")
    await application.bus.wait_idle()
    replies = [m["text"] for m in bot_api.sent if not m["text"].startswith("ALERT")]
    assert replies[0] == "trading HALTED: maintenance" and replies[-1] == "trading ACTIVE"
    assert all("stranger" not in text for text in replies)

    # The channels are built at start: a change while running is accepted but announced as such.
    webhooks = {"webhooks": [{"url": "http://127.0.0.1:9/x"}]}
    await application.config.replace({**application.config.document(), "notifications": webhooks}, "api")
    await application.bus.wait_idle()
    await application.bus.wait_idle()

    records = journal_lines(log_path)
    assert any(r["event"] == "alert" and "takes effect at the next start" in r["reason"] for r in records)
    events = [r["event"] for r in records]
    for expected in ("signal_rejected", "order_sent", "order_filled", "position_opened", "position_closed",
                     "breaker_tripped", "trading_halted", "trading_resumed"):
        assert expected in events, expected
    entry = next(r for r in records if r["event"] == "order_filled" and r["client_order_id"] == order.client_order_id)
    assert entry["symbol"] == SYMBOL and entry["avg_price"] and entry["leg"] == "ENTRY"
    closed = next(r for r in records if r["event"] == "position_closed")
    assert closed["position_id"] == position.id and closed["net_pnl"] and closed["fees"]
    rejected = next(r for r in records if r["event"] == "signal_rejected")
    assert rejected["signal_id"] == short.id and "spot" in rejected["reason"]

    await wait_for(lambda: any('"position_closed"' in r.body.decode() for r in hook.requests))
    posted = [e["event"] for r in hook.requests for e in r.json()["events"]]
    assert "order_filled" in posted and "position_closed" in posted
    for request in hook.requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-ictbot-signature"] == expected
    assert TOKEN not in log_path.read_text() and SECRET not in log_path.read_text()
