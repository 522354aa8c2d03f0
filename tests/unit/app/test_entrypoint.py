"""Entry point: environment validation, logging, signal handling and the application lifecycle."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import httpx
import pytest
import structlog

from ictbot.app.application import Application
from ictbot.app.logsetup import configure_logging, log_file_name
from ictbot.app.orchestrator import FunctionService
from ictbot.app.settings import Settings, TradingMode, validate_environment
from ictbot.app.system import build_application

SECRET = "sk_live_0123456789abcdefSECRET"
API_KEY = "ak_live_9876543210KEYVALUE"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("BINANCE_API_KEY", "BINANCE_SECRET_KEY", "TRADING_MODE", "TESTNET", "API_HOST", "API_PORT",
                 "ICTBOT_API_TOKEN", "LOG_LEVEL", "DATABASE_URL", "DATABASE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


# ---- environment validation ----------------------------------------------------------------


def test_paper_mode_needs_no_keys() -> None:
    assert validate_environment(Settings()) == []


def test_live_mode_requires_api_key_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_MODE", "live")
    monkeypatch.setenv("TESTNET", "false")
    monkeypatch.setenv("BINANCE_SECRET_KEY", SECRET)
    problems = validate_environment(Settings())
    assert len(problems) == 1 and problems[0].startswith("BINANCE_API_KEY is not set")


def test_testnet_mode_requires_secret_or_ed25519_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_MODE", "testnet")
    monkeypatch.setenv("BINANCE_API_KEY", API_KEY)
    problems = validate_environment(Settings())
    assert len(problems) == 1 and "BINANCE_SECRET_KEY" in problems[0]


def test_live_mode_with_testnet_flag_is_contradictory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_MODE", "live")
    monkeypatch.setenv("BINANCE_API_KEY", API_KEY)
    monkeypatch.setenv("BINANCE_SECRET_KEY", SECRET)
    assert any("TESTNET=false" in p for p in validate_environment(Settings()))


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        Settings()
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("API_PORT", "70000")
    with pytest.raises(ValueError, match="API_PORT"):
        Settings()


def test_defaults_are_safe() -> None:
    settings = Settings()
    assert settings.api_host == "127.0.0.1" and settings.api_port == 8000
    assert settings.testnet is True and settings.trading_mode is TradingMode.PAPER
    assert settings.resolved_database_url == "sqlite:///data/ictbot.db"


def test_exposing_the_api_requires_an_explicit_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_HOST", "0.0.0.0")
    assert any("ICTBOT_API_TOKEN" in p for p in validate_environment(Settings()))


# ---- logging --------------------------------------------------------------------------------


def test_log_file_name_has_the_timestamp_format() -> None:
    from datetime import UTC, datetime

    assert log_file_name(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "trading_bot_20260102_030405.log"


def test_file_gets_debug_and_console_gets_the_configured_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = configure_logging("WARNING", tmp_path / "logs")
    assert path is not None and path.parent == tmp_path / "logs"
    logging.getLogger("ictbot.test").debug("debug-line")
    logging.getLogger("ictbot.test").warning("warning-line")
    text = path.read_text()
    assert "debug-line" in text and "warning-line" in text
    err = capsys.readouterr().err
    assert "warning-line" in err and "debug-line" not in err


def test_secrets_never_reach_log_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = configure_logging("DEBUG", tmp_path / "logs", secrets=[SECRET, API_KEY])
    logger = logging.getLogger("ictbot.test")
    logger.info("connecting with key %s and secret %s", API_KEY, SECRET)
    structlog.get_logger("ictbot.test").info("signed request", api_key=API_KEY, url=f"https://x/?sig={SECRET}")
    try:
        raise RuntimeError(f"auth failed for {API_KEY}")
    except RuntimeError:
        logger.exception("boom")
    assert path is not None
    text = path.read_text() + capsys.readouterr().err
    assert SECRET not in text and API_KEY not in text
    assert "***" in text and "auth failed" in text


def test_settings_repr_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANCE_API_KEY", API_KEY)
    monkeypatch.setenv("BINANCE_SECRET_KEY", SECRET)
    settings = Settings()
    assert API_KEY not in repr(settings) and SECRET not in str(settings.model_dump())
    assert set(settings.secret_values()) == {API_KEY, SECRET}


# ---- signal handlers ---------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_signal_requests_a_graceful_stop(sig: int, tmp_path: Path) -> None:
    application = Application(Settings(), config_path=tmp_path / "c.json")
    stopped: list[str] = []

    async def record_stop() -> None:
        stopped.append("worker")

    application.register(FunctionService("worker", stop=record_stop), depends_on=["config"])

    async def send_signal(app: Application) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, os.kill, os.getpid(), sig)

    errors = await application.run(on_started=send_signal, duration=10)
    assert errors == [] and stopped == ["worker"]
    assert application.stop_event.is_set()


# ---- lifecycle ---------------------------------------------------------------------------------


async def test_start_reports_healthy_and_stop_reports_stopped(tmp_path: Path) -> None:
    application = Application(Settings(), config_path=tmp_path / "c.json")
    await application.start()
    assert application.orchestrator.get_health_status()["status"] == "healthy"
    await application.stop()
    components = application.orchestrator.get_health_status()["components"]
    assert {c["status"] for c in components.values()} == {"stopped"}


async def test_config_is_saved_even_when_a_service_fails_to_stop(tmp_path: Path) -> None:
    config_path = tmp_path / "c.json"
    application = Application(Settings(), config_path=config_path)

    async def broken_stop() -> None:
        raise RuntimeError("stuck")

    application.register(FunctionService("stuck", stop=broken_stop), depends_on=["config"])
    await application.start()
    config_path.unlink()
    errors = await application.stop()
    assert [name for name, _ in errors] == ["stuck"]
    assert config_path.exists(), "configuration is saved on shutdown"


async def test_a_service_that_fails_to_start_stops_the_others(tmp_path: Path) -> None:
    application = Application(Settings(), config_path=tmp_path / "c.json")

    async def boom() -> None:
        raise RuntimeError("no database")

    application.register(FunctionService("db", start=boom), depends_on=["config"])
    with pytest.raises(Exception, match="no database"):
        await application.start()
    assert not application.bus.running


async def test_run_with_duration_stops_by_itself(tmp_path: Path) -> None:
    application = Application(Settings(), config_path=tmp_path / "c.json")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await application.run(duration=0.1)
    assert loop.time() - started < 5
    assert not application.bus.running


# ---- complete lifecycle ------------------------------------------------------------------------


async def test_complete_lifecycle_serves_health_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PORT", "0")
    application = build_application(Settings())
    await application.start()
    try:
        api = application.orchestrator.get("api")
        url = f"http://127.0.0.1:{api.port}/health"  # type: ignore[attr-defined]
        async with httpx.AsyncClient() as client:
            reply = await client.get(url)
        assert reply.status_code == 200
        body = reply.json()
        assert body["status"] == "healthy" and "event_bus" in body["components"]
    finally:
        await application.stop()


async def test_complete_lifecycle_refuses_a_busy_port(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    monkeypatch.setenv("API_PORT", str(holder.getsockname()[1]))
    application = build_application(Settings())
    try:
        with pytest.raises(Exception, match="cannot listen"):
            await application.start()
        assert not application.bus.running
    finally:
        holder.close()


def test_unwired_nats_bus_is_refused_when_the_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICTBOT_BUS", "nats")
    with pytest.raises(ValueError, match=r"ICTBOT_BUS[\s\S]*not wired into the app"):
        Settings()
    monkeypatch.setenv("ICTBOT_BUS", "redis")
    with pytest.raises(ValueError, match=r"ICTBOT_BUS[\s\S]*must be 'memory'"):
        Settings()
    monkeypatch.setenv("ICTBOT_BUS", "memory")
    assert Settings().bus_backend == "memory"
