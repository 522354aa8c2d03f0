"""Telegram against a local fake Bot API (``/bot<token>/sendMessage``, ``/bot<token>/getUpdates``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ictbot.app.tasks import TaskManager
from ictbot.bus import EventBus
from ictbot.domain.events import AlertLevel
from ictbot.monitoring.journal import TradeJournal
from ictbot.monitoring.journal_records import JournalRecord
from ictbot.notify.config import Secrets, effective_config
from ictbot.notify.factory import build_notifications
from ictbot.notify.telegram import TelegramChannel, TelegramCommandListener, TelegramError
from ictbot.ports.clock import ManualClock
from ictbot.risk.breakers import CircuitBreakers
from ictbot.risk.limits import RiskLimits
from ictbot.risk.state import BreakerReason, TradingState
from tests.integration.notify.fake_telegram import CHAT, TOKEN, FakeBotApi
from tests.unit.risk.support import MemoryKeyValueStore


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.server.start()
    yield api
    await api.server.stop()


def state(breakers: CircuitBreakers) -> str:
    return breakers.trading_state.value


class BreakerCommands:
    """The commands over real circuit breakers (the facade does the same in the app)."""

    def __init__(self, breakers: CircuitBreakers) -> None:
        self.breakers = breakers

    async def status(self) -> str:
        return f"trading {self.breakers.trading_state.value}"

    async def positions(self) -> str:
        return "no open positions"

    async def profit(self) -> str:
        raise RuntimeError("performance unavailable")

    async def halt(self, reason: str) -> str:
        await self.breakers.trip(BreakerReason.MANUAL.value, message=reason, state=TradingState.HALTED)
        return f"trading {self.breakers.trading_state.value}: {reason}"

    async def resume(self) -> str:
        await self.breakers.reset(None)
        return f"trading {self.breakers.trading_state.value}"


async def test_notifications_are_sent_to_the_configured_chat(bot_api: FakeBotApi) -> None:
    config = effective_config({"telegram": {"chat_id": CHAT, "base_url": bot_api.server.url,
                                            "events": ["position_closed"], "max_per_minute": 600}}, {})
    setup = build_notifications(config, Secrets({"TELEGRAM_BOT_TOKEN": TOKEN}))
    assert TOKEN in setup.secrets
    await setup.notifier.start(TaskManager())
    setup.notifier.submit(JournalRecord("order_filled", "ORDER filled c-1", AlertLevel.INFO))
    setup.notifier.submit(JournalRecord("position_closed", "POSITION closed p-1 net P&L 12.5", AlertLevel.INFO))
    deadline = asyncio.get_running_loop().time() + 10
    while not bot_api.sent and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    await setup.notifier.stop()
    assert bot_api.sent == [{"chat_id": CHAT, "text": "POSITION closed p-1 net P&L 12.5"}]


async def test_a_bad_token_is_an_error_that_does_not_show_the_token(bot_api: FakeBotApi) -> None:
    channel = TelegramChannel("999:wrong", CHAT, base_url=bot_api.server.url)
    with pytest.raises(TelegramError, match="HTTP 401 Unauthorized") as failure:
        await channel.send_text("hello")
    assert "999:wrong" not in str(failure.value)
    await channel.aclose()


async def test_commands_are_obeyed_only_from_the_configured_chat(bot_api: FakeBotApi) -> None:
    bus = EventBus()
    breakers = CircuitBreakers(MemoryKeyValueStore(), ManualClock(1_700_000_000_000), RiskLimits, bus=bus)
    journal = TradeJournal(bus, trading_state=lambda: breakers.trading_state.value)
    records: list[JournalRecord] = []
    journal.add_sink(records.append)
    journal.attach()
    await bus.start()
    channel = TelegramChannel(TOKEN, CHAT, base_url=bot_api.server.url)
    listener = TelegramCommandListener(channel, BreakerCommands(breakers), poll_timeout=0)

    bot_api.command("/halt stranger danger", chat_id=666)  # another chat: ignored, no reply
    await listener.poll_once()
    assert state(breakers) == "ACTIVE" and bot_api.sent == [] and listener.ignored == 1

    bot_api.command("/halt news at 14:30", chat_id=int(CHAT))
    bot_api.command("/status", chat_id=int(CHAT))
    await listener.poll_once()
    assert state(breakers) == "HALTED"
    assert [m["text"] for m in bot_api.sent] == ["trading HALTED: news at 14:30", "trading HALTED"]
    assert bot_api.offsets[-1] == 101  # updates already answered are acknowledged, not re-run

    bot_api.command("/profit", chat_id=int(CHAT))
    bot_api.command("/resume", chat_id=int(CHAT))
    bot_api.command("/nonsense", chat_id=int(CHAT))
    bot_api.command("just chatting", chat_id=int(CHAT))
    await listener.poll_once()
    assert state(breakers) == "ACTIVE"
    assert [m["text"] for m in bot_api.sent[2:]] == [
        "/profit failed: performance unavailable", "trading ACTIVE",
        "commands: /status /positions /profit /halt [reason] /resume"]
    await listener.poll_once()
    assert len(bot_api.sent) == 5  # nothing new: nothing re-answered

    await bus.wait_idle()
    events = [r.event for r in records]
    assert events.count("trading_halted") == 1 and events.count("trading_resumed") == 1
    assert "breaker_tripped" in events
    await channel.aclose()
    await bus.stop()
