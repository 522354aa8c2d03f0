"""Backtests started over the API: a real worker process over candles in a SQLite database, its
progress, its result in the --reports folder, cancel, the limit, and every refusal naming its field."""

from __future__ import annotations

import asyncio
import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ictbot.adapters.files import read_candle_files
from ictbot.adapters.storage.candles import SqlCandleStore
from ictbot.adapters.storage.database import Database
from ictbot.adapters.storage.url import sqlite_url
from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from ictbot.api.backtest_reports import NAME_PATTERN
from ictbot.app.facade_backtests import BacktestJobRunner, JobSettings, result_name
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.dashboard import BacktestJobList, BacktestJobRequest, BacktestJobView
from tests.unit.api.conftest import READ, TRADE
from tests.unit.api.fakes import FakeFacade

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv"
JAN_1 = 1_704_067_200_000
DAY = 86_400_000

SLOW = '''
import time
from typing import ClassVar
from ictbot.strategies.base import BaseStrategy, StrategyConfig

class Slow(BaseStrategy[StrategyConfig]):
    kind: ClassVar[str] = "slow"
    config_model: ClassVar[type[StrategyConfig]] = StrategyConfig

    def on_candle(self, context):
        time.sleep(0.02)  # long enough for a test to see it running and to cancel it
        return None
'''


class JobsFacade(FakeFacade):
    def __init__(self, runner: BacktestJobRunner) -> None:
        super().__init__()
        self.runner = runner

    async def backtest_jobs(self) -> BacktestJobList:
        return self.runner.listing()

    async def start_backtest(self, request: BacktestJobRequest) -> BacktestJobView:
        return await asyncio.to_thread(self.runner.start, request)

    async def backtest_job(self, job_id: str) -> BacktestJobView:
        return self.runner.get(job_id)

    async def cancel_backtest(self, job_id: str) -> BacktestJobView:
        return self.runner.cancel(job_id)

    async def stop_backtests(self) -> None:
        self.runner.close()


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not DATA.is_file():
        pytest.skip(f"market data not found: {DATA}")
    url = sqlite_url(tmp_path_factory.mktemp("jobs") / "bot.db")

    async def fill() -> None:
        database = Database(url)
        database.upgrade()
        try:
            frame = read_candle_files([DATA]).between(JAN_1, JAN_1 + 3 * DAY)
            await SqlCandleStore(database).upsert_frame(frame, "BTCUSDT", Timeframe.M5)
        finally:
            await database.close()

    asyncio.run(fill())
    return url


def runner_for(database_url: str, reports: Path | None, max_jobs: int = 1) -> BacktestJobRunner:
    return BacktestJobRunner(JobSettings(reports_dir=reports, database_url=database_url, market="spot",
                                         base_timeframe=Timeframe.M5, config_file=None, max_jobs=max_jobs))


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    return folder


@pytest.fixture
def runner(database_url: str, reports: Path) -> Iterator[BacktestJobRunner]:
    made = runner_for(database_url, reports)
    yield made
    made.close()
    for job in made.listing().items:
        made.wait(job.id, 30)


@pytest.fixture
def jobs_client(runner: BacktestJobRunner, tokens: TokenAuthority) -> Iterator[TestClient]:
    app = create_app(JobsFacade(runner), ApiSettings(ws_heartbeat_s=60, reports_dir=runner.settings.reports_dir),
                     tokens=tokens)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def body(**changes: Any) -> dict[str, Any]:
    return {"strategy": "s1_ema_cross", "symbol": "BTCUSDT", "timeframe": "15m", "start_ms": JAN_1,
            "end_ms": JAN_1 + 2 * DAY, **changes}


def wait_until_finished(client: TestClient, job_id: str, seen: list[float]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/backtests/jobs/{job_id}", headers=READ).json()
        seen.append(job["percent"])
        if job["state"] != "running":
            return job
        time.sleep(0.05)
    pytest.fail(f"job {job_id} still running")


def test_a_backtest_runs_in_a_worker_and_its_result_is_listed_and_opens(jobs_client: TestClient) -> None:
    started = jobs_client.post("/backtests/jobs", json=body(), headers=TRADE)
    assert started.status_code == 202, started.text
    percents: list[float] = []
    job = wait_until_finished(jobs_client, started.json()["id"], percents)
    assert job["state"] == "done" and job["percent"] == 100.0 and job["error"] is None
    assert job["total"] == 2 * 96 and job["done"] == job["total"]  # two days of 15m candles built from 5m
    assert percents == sorted(percents)
    listed = jobs_client.get("/backtests", headers=READ).json()
    assert [item["name"] for item in listed["items"]] == [job["result"]]
    detail = jobs_client.get(f"/backtests/{job['result']}", headers=READ).json()
    assert detail["summary"]["strategy"] == "s1_ema_cross" and detail["summary"]["timeframe"] == "15m"
    assert detail["summary"]["start_ms"] == JAN_1 and detail["summary"]["symbols"] == ["BTCUSDT"]


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"strategy": "no_such_strategy"}, "strategy", "unknown strategy"),
    ({"end_ms": JAN_1 - DAY}, "end_ms", "end is not after start"),
    ({"start_ms": JAN_1 + 10 * DAY, "end_ms": JAN_1 + 11 * DAY}, "start_ms", "no stored 5m candles"),
    ({"timeframe": "1m"}, "timeframe", "the bot stores 5m candles"),
])
def test_a_bad_request_is_refused_naming_the_field_and_the_reason(
    jobs_client: TestClient, reports: Path, changes: dict[str, Any], field: str, words: str
) -> None:
    answer = jobs_client.post("/backtests/jobs", json=body(**changes), headers=TRADE)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == field and words in error["reason"]
    assert jobs_client.get("/backtests/jobs", headers=READ).json()["items"] == []
    assert list(reports.iterdir()) == []


def test_a_trading_config_the_backtest_cannot_read_is_refused_naming_it(
    database_url: str, reports: Path, tmp_path: Path, tokens: TokenAuthority
) -> None:
    broken = tmp_path / "trading_config.json"
    broken.write_text("{not json")
    runner = BacktestJobRunner(JobSettings(reports_dir=reports, database_url=database_url, market="spot",
                                           base_timeframe=Timeframe.M5, config_file=broken))
    app = create_app(JobsFacade(runner), ApiSettings(ws_heartbeat_s=60), tokens=tokens)
    with TestClient(app) as client:
        answer = client.post("/backtests/jobs", json=body(), headers=TRADE)
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "config_file" and error["reason"].startswith("trading config:")


def test_a_running_backtest_can_be_cancelled_blocks_a_second_and_leaves_no_result(
    jobs_client: TestClient, reports: Path, tmp_path: Path
) -> None:
    strategy = tmp_path / "slow_strategy.py"
    strategy.write_text(textwrap.dedent(SLOW))
    started = jobs_client.post("/backtests/jobs", json=body(strategy=f"{strategy}:Slow"), headers=TRADE)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    second = jobs_client.post("/backtests/jobs", json=body(), headers=TRADE)
    assert second.status_code == 409 and "at most 1 at once" in second.json()["reasons"][0]
    assert jobs_client.delete(f"/backtests/jobs/{job_id}", headers=READ).status_code == 403
    cancelled = jobs_client.delete(f"/backtests/jobs/{job_id}", headers=TRADE)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    wait_until_finished(jobs_client, job_id, [])
    assert jobs_client.get(f"/backtests/jobs/{job_id}", headers=READ).json()["state"] == "cancelled"
    assert list(reports.iterdir()) == []


def test_a_server_that_stops_ends_its_running_workers(
    runner: BacktestJobRunner, tokens: TokenAuthority, reports: Path, tmp_path: Path
) -> None:
    strategy = tmp_path / "slow_strategy.py"
    strategy.write_text(textwrap.dedent(SLOW))
    app = create_app(JobsFacade(runner), ApiSettings(ws_heartbeat_s=60, reports_dir=reports), tokens=tokens)
    with TestClient(app) as client:
        started = client.post("/backtests/jobs", json=body(strategy=f"{strategy}:Slow"), headers=TRADE)
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        assert client.get(f"/backtests/jobs/{job_id}", headers=READ).json()["state"] == "running"
    assert runner.wait(job_id, 30).state == "cancelled"
    assert list(reports.iterdir()) == []


def test_the_read_token_may_watch_but_not_start(jobs_client: TestClient) -> None:
    assert jobs_client.post("/backtests/jobs", json=body(), headers=READ).status_code == 403
    listing = jobs_client.get("/backtests/jobs", headers=READ).json()
    assert listing == {"available": True, "reason": None, "max_jobs": 1, "items": []}
    assert jobs_client.get("/backtests/jobs/abc123", headers=READ).status_code == 404


def test_without_a_reports_folder_the_feature_says_why(database_url: str, tokens: TokenAuthority) -> None:
    app = create_app(JobsFacade(runner_for(database_url, None)), ApiSettings(ws_heartbeat_s=60), tokens=tokens)
    with TestClient(app) as client:
        listing = client.get("/backtests/jobs", headers=READ).json()
        refused = client.post("/backtests/jobs", json=body(), headers=TRADE)
    assert listing["available"] is False and "--reports" in listing["reason"]
    assert refused.status_code == 409 and "--reports" in refused.json()["reasons"][0]


def test_a_facade_without_a_runner_is_unavailable(client: TestClient) -> None:
    listing = client.get("/backtests/jobs", headers=READ).json()
    assert listing["available"] is False and listing["items"] == []
    assert client.post("/backtests/jobs", json=body(), headers=TRADE).status_code == 409
    assert client.get("/backtests/jobs/abc123", headers=READ).status_code == 404
    assert client.delete("/backtests/jobs/abc123", headers=TRADE).status_code == 404


def test_an_unknown_field_or_a_bad_timeframe_is_a_422_before_any_worker(jobs_client: TestClient) -> None:
    for bad, field in ((body(extra=1), "body.extra"), (body(timeframe="7m"), "body.timeframe")):
        answer = jobs_client.post("/backtests/jobs", json=bad, headers=TRADE)
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_a_result_name_is_a_plain_file_name_the_backtests_list_accepts() -> None:
    request = BacktestJobRequest(strategy="/home/me/my strategies/break out.py:Breakout", symbol="ETHUSDT",
                                 timeframe=Timeframe.H1, start_ms=JAN_1, end_ms=JAN_1 + DAY)
    name = result_name(request, "0123456789ab")
    assert re.fullmatch(NAME_PATTERN, name) and "/" not in name
    assert name.startswith("break_out_py_Breakout-ETHUSDT-1h-") and name.endswith("-0123456789ab.json")
