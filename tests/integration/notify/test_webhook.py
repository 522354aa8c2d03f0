"""Webhook notifications against a local HTTP server: signed JSON, batching, one ALERT when failing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable

import pytest

from ictbot.app.tasks import TaskManager
from ictbot.bus import EventBus, Topic
from ictbot.domain.events import Alert, AlertLevel, SignalRejected
from ictbot.monitoring.journal import TradeJournal
from ictbot.monitoring.journal_records import JournalRecord
from ictbot.notify.config import Secrets, WebhookOptions, effective_config
from ictbot.notify.dispatcher import Notifier
from ictbot.notify.factory import build_notifications
from ictbot.notify.webhook import SIGNATURE_HEADER, WebhookChannel
from tests.integration.notify.fake_http import FakeHttpServer
from tests.unit.risk.support import make_signal

SECRET = "whsec-test-0123456789"


def record(n: int, event: str = "order_filled", severity: AlertLevel = AlertLevel.INFO) -> JournalRecord:
    return JournalRecord(event, f"ORDER filled c-{n}", severity, {"client_order_id": f"c-{n}"}, n)


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


@pytest.fixture
async def server() -> AsyncIterator[FakeHttpServer]:
    fake = FakeHttpServer()
    await fake.start()
    yield fake
    await fake.stop()


def options(**overrides: object) -> WebhookOptions:
    values: dict[str, object] = {"url": "http://127.0.0.1:1/", "max_per_minute": 600, "retries": 1,
                                 "backoff_seconds": 0.01}
    values.update(overrides)
    return WebhookOptions.model_validate(values)


async def test_posts_are_signed_json_and_a_burst_becomes_one_batched_post(server: FakeHttpServer) -> None:
    notifier = Notifier()
    notifier.add(WebhookChannel("hook", server.url + "/hook", secret=SECRET), options())
    await notifier.start(TaskManager())
    for n in range(5):  # one burst: queued before the worker runs
        notifier.submit(record(n))
    await until(lambda: len(server.requests) == 1)
    notifier.submit(record(99, "position_closed"))
    await until(lambda: len(server.requests) == 2)
    await notifier.stop()

    first, second = server.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), first.body, hashlib.sha256).hexdigest()
    assert first.headers[SIGNATURE_HEADER.lower()] == expected
    assert first.headers["content-type"] == "application/json"
    body = first.json()
    assert [e["client_order_id"] for e in body["events"]] == [f"c-{n}" for n in range(5)]
    assert body["count"] == "5" and body["text"].splitlines()[0] == "ORDER filled c-0"
    assert second.json()["event"] == "position_closed"
    tampered = second.body.replace(b"c-99", b"c-98")
    assert hmac.compare_digest(second.headers[SIGNATURE_HEADER.lower()],
                               "sha256=" + hmac.new(SECRET.encode(), second.body, hashlib.sha256).hexdigest())
    assert not hmac.compare_digest(second.headers[SIGNATURE_HEADER.lower()],
                                   "sha256=" + hmac.new(SECRET.encode(), tampered, hashlib.sha256).hexdigest())


async def test_slack_discord_and_custom_templates(server: FakeHttpServer) -> None:
    notifier = Notifier()
    notifier.add(WebhookChannel("slack", server.url + "/slack", preset="slack"), options())
    notifier.add(WebhookChannel("discord", server.url + "/discord", preset="discord"), options())
    custom = {"msg": "[$severity] $text", "kind": "$event", "items": "$events"}
    notifier.add(WebhookChannel("custom", server.url + "/custom", template=custom), options())
    await notifier.start(TaskManager())
    notifier.submit(record(1, "breaker_tripped", AlertLevel.CRITICAL))
    await until(lambda: len(server.requests) == 3)
    await notifier.stop()
    bodies = {r.path: r.json() for r in server.requests}
    assert bodies["/slack"] == {"text": "ORDER filled c-1"}
    assert bodies["/discord"] == {"content": "ORDER filled c-1"}
    assert bodies["/custom"]["msg"] == "[critical] ORDER filled c-1" and bodies["/custom"]["kind"] == "breaker_tripped"
    assert bodies["/custom"]["items"][0]["client_order_id"] == "c-1"
    assert all(SIGNATURE_HEADER.lower() not in r.headers for r in server.requests)  # no secret, no signature


async def test_stopping_sends_what_waits_for_its_rate_limit_slot(server: FakeHttpServer) -> None:
    notifier = Notifier()
    worker = notifier.add(WebhookChannel("slow", server.url), options(max_per_minute=1))
    tasks = TaskManager()
    await notifier.start(tasks)
    notifier.submit(record(1))
    await until(lambda: len(server.requests) == 1)
    notifier.submit(record(2))  # the next slot is a minute away
    notifier.submit(record(3))
    assert worker.depth == 2
    await notifier.stop(flush_timeout=10)
    assert len(server.requests) == 2 and server.requests[1].json()["count"] == "2"


async def test_stop_without_flush_ends_a_worker_waiting_for_its_slot(server: FakeHttpServer) -> None:
    """Stopping sets the flush event and cancels at once; the worker must end (a wait_for-based
    pause could swallow that cancellation on Python 3.11 and hang the shutdown)."""
    notifier = Notifier()
    worker = notifier.add(WebhookChannel("slow", server.url), options(max_per_minute=1))
    tasks = TaskManager()
    await notifier.start(tasks)
    notifier.submit(record(1))
    await until(lambda: len(server.requests) == 1)
    notifier.submit(record(2))
    await asyncio.sleep(0.05)  # the worker is now paused until its next slot
    stopping = asyncio.ensure_future(notifier.stop(flush_timeout=0))
    await asyncio.wait({stopping}, timeout=10)  # bounded only so that a regression fails instead of hanging
    assert stopping.done() and tasks.status()[worker.task_name]["state"] == "cancelled"


async def test_event_filter_and_minimum_severity_per_channel(server: FakeHttpServer) -> None:
    notifier = Notifier()
    notifier.add(WebhookChannel("fills", server.url + "/fills"), options(events=["order_filled"]))
    notifier.add(WebhookChannel("serious", server.url + "/serious"), options(min_severity="warning"))
    await notifier.start(TaskManager())
    notifier.submit(record(1, "signal_rejected"))
    notifier.submit(record(2, "order_filled"))
    await until(lambda: len(server.requests) == 1)
    notifier.submit(record(3, "trading_halted", AlertLevel.CRITICAL))
    await until(lambda: len(server.requests) == 2)
    await notifier.stop()
    assert [(r.path, r.json()["events"][0]["client_order_id"]) for r in server.requests] == [
        ("/fills", "c-2"), ("/serious", "c-3")]


async def test_a_failing_channel_raises_exactly_one_alert_and_another_only_after_recovering(
    server: FakeHttpServer,
) -> None:
    status = {"code": 500}
    server.route = lambda request: (status["code"], {"ok": status["code"] == 200})
    bus = EventBus()
    alerts: list[Alert] = []
    bus.subscribe(Topic.ALERT, lambda envelope: alerts.append(envelope.payload))
    await bus.start()

    async def on_failing(channel: str, error: str) -> None:
        await bus.publish(Topic.ALERT, Alert(AlertLevel.WARNING, "notify", f"{channel} failing: {error}"))

    notifier = Notifier(on_failing)
    worker = notifier.add(WebhookChannel("hook", server.url), options())
    await notifier.start(TaskManager())
    for n in range(4):
        notifier.submit(record(n))
        await until(lambda n=n: worker.depth == 0 and worker.stats.failed_attempts >= 2 * (n + 1))  # type: ignore[misc]
    await bus.wait_idle()
    assert len(alerts) == 1 and "HTTP 500" in alerts[0].message
    assert worker.stats.failed_attempts == 8  # 4 batches x (1 try + 1 retry)

    status["code"] = 200
    notifier.submit(record(10))
    await until(lambda: worker.stats.sent_messages == 1)
    status["code"] = 500
    notifier.submit(record(11))
    await until(lambda: worker.stats.alerts == 2)
    await bus.wait_idle()
    assert len(alerts) == 2
    await notifier.stop()
    await bus.stop()


async def test_a_dead_webhook_never_blocks_the_bus_and_its_queue_stays_bounded() -> None:
    bus = EventBus()
    journal = TradeJournal(bus)
    alerts: list[Alert] = []
    bus.subscribe(Topic.ALERT, lambda envelope: alerts.append(envelope.payload))

    async def on_failing(channel: str, error: str) -> None:
        await bus.publish(Topic.ALERT, Alert(AlertLevel.WARNING, "notify", f"{channel} failing: {error}"))

    notifier = Notifier(on_failing)
    # Nothing listens on port 1: every post fails (connection refused) after its retries.
    worker = notifier.add(WebhookChannel("dead", "http://127.0.0.1:1/"),
                          options(queue_size=100, retries=2, backoff_seconds=0.05))
    journal.add_sink(notifier.submit)
    journal.attach()
    await bus.start()
    await notifier.start(TaskManager())
    for n in range(1000):
        await bus.publish(Topic.SIGNAL_REJECTED, SignalRejected(make_signal(time=n * 300_000), ("cooldown",)))
    await bus.wait_idle()  # the journal's handler has handled all 1000 while the channel is still failing
    assert journal.recorded == 1000 and notifier.submitted == 1000
    assert worker.depth <= 100 and worker.stats.dropped >= 1000 - 100 - worker.options.max_batch
    await until(lambda: worker.stats.alerts == 1)
    await bus.wait_idle()
    assert len(alerts) == 1
    await notifier.stop(flush_timeout=0.1)
    await bus.stop()


def test_the_env_url_alone_enables_a_webhook_for_every_event() -> None:
    config = effective_config({}, {"ICTBOT_WEBHOOK_URL": "http://127.0.0.1:9/hook"})
    assert [(h.url, h.events, h.min_severity) for h in config.webhooks] == [
        ("http://127.0.0.1:9/hook", None, AlertLevel.INFO)]
    setup = build_notifications(config, Secrets({"ICTBOT_WEBHOOK_SECRET": SECRET}))
    assert [w.channel.name for w in setup.notifier.workers] == ["env-webhook"] and setup.secrets == [SECRET]
    with pytest.raises(ValueError, match="ICTBOT_WEBHOOK_URL"):
        effective_config({}, {"ICTBOT_WEBHOOK_URL": "ftp://nope"})


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(ValueError, match="unknown event 'order_fileld'"):
        effective_config({"webhooks": [{"url": "http://x/", "events": ["order_fileld"]}]}, {})
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN is not set"):
        build_notifications(effective_config({"telegram": {"chat_id": "42"}}, {}), Secrets({}))
