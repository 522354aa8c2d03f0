"""Backtests started from the dashboard, each in its own worker process (``ictbot.cli.backtest_job``).

Never in the API's process or event loop: a worker is a ``python -m`` child that reports JSON lines on
its stdout, read here by one thread per job. ``start`` returns once the worker has accepted the job (its
own checks are the CLI's: strategy, configuration, stored candles) or refused it with a field and a
reason. At most ``max_jobs`` run at once; a cancelled worker is terminated and leaves no results file.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ictbot.app.application import Application
from ictbot.app.wiring import Pipeline
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.dashboard import BacktestJobList, BacktestJobRequest, BacktestJobView, JobState
from ictbot.ports.facade import Conflict, NotFound, ValidationFailed

WORKER_MODULE = "ictbot.cli.backtest_job"
ACCEPT_TIMEOUT_S = 180.0  # the worker's first answer (imports, strategy, candles); compiling kernels is slower
KEPT_FINISHED = 20
NO_REPORTS = "the server was started without --reports DIR: backtest results have nowhere to go"


@dataclass(frozen=True)
class JobSettings:
    """Where a worker reads candles and the configuration and writes its result."""

    reports_dir: Path | None
    database_url: str
    market: str
    base_timeframe: Timeframe
    config_file: Path | None
    max_jobs: int = 1


@dataclass
class _Job:
    request: BacktestJobRequest
    id: str
    output: Path
    started_ms: int
    process: subprocess.Popen[str] | None = None
    state: JobState = "running"
    done: int = 0
    total: int = 0
    finished_ms: int | None = None
    error: str | None = None
    phase: str | None = None
    invalid: tuple[str, str] | None = None
    result: str | None = None
    decided: threading.Event = field(default_factory=threading.Event)

    def view(self) -> BacktestJobView:
        r = self.request
        percent = 100.0 if self.state == "done" else round(100.0 * self.done / self.total, 1) if self.total else 0.0
        return BacktestJobView(
            id=self.id, state=self.state, strategy=r.strategy, symbol=r.symbol, timeframe=r.timeframe.value,
            start_ms=r.start_ms, end_ms=r.end_ms, done=self.done, total=self.total, percent=percent,
            started_ms=self.started_ms, finished_ms=self.finished_ms, result=self.result, error=self.error,
            phase=self.phase if self.state == "running" else None,
        )


def _now_ms() -> int:
    return int(time.time() * 1000)


def result_name(request: BacktestJobRequest, job_id: str) -> str:
    """A plain file name the backtests list accepts: strategy, symbol, timeframe, when, job id."""
    strategy = re.sub(r"[^A-Za-z0-9_-]+", "_", request.strategy.rsplit("/", 1)[-1]).strip("_-") or "strategy"
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return f"{strategy[:60]}-{request.symbol}-{request.timeframe.value}-{stamp}-{job_id}.json"


class BacktestJobRunner:
    def __init__(self, settings: JobSettings, *, python: str = sys.executable) -> None:
        self.settings = settings
        self.python = python
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def listing(self) -> BacktestJobList:
        with self._lock:
            items = [job.view() for job in reversed(self._jobs.values())]
        folder = self.settings.reports_dir
        return BacktestJobList(available=folder is not None, reason=None if folder else NO_REPORTS,
                               max_jobs=self.settings.max_jobs, items=items)

    def get(self, job_id: str) -> BacktestJobView:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound("backtest job", job_id)
            return job.view()

    def start(self, request: BacktestJobRequest) -> BacktestJobView:
        """Blocks until the worker accepted or refused the job (call it off the event loop)."""
        folder = self._check(request)
        job_id = uuid.uuid4().hex[:12]
        job = _Job(request, job_id, folder / result_name(request, job_id), _now_ms())
        with self._lock:
            running = sum(1 for j in self._jobs.values() if j.state == "running")
            if running >= self.settings.max_jobs:
                raise Conflict("too many backtests running", [
                    f"at most {self.settings.max_jobs} at once (ICTBOT_BACKTEST_JOBS); cancel one or wait"])
            self._jobs[job_id] = job
            self._forget_old()
        job.process = subprocess.Popen(
            [self.python, "-m", WORKER_MODULE, json.dumps(self._job_document(job))],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, encoding="utf-8",
        )
        assert job.process.stdout is not None
        threading.Thread(target=self._follow, args=(job, job.process.stdout), daemon=True,
                         name=f"backtest-{job_id}").start()
        if not job.decided.wait(ACCEPT_TIMEOUT_S):
            self.cancel(job_id)
            raise Conflict("the backtest worker did not start", [f"no answer in {ACCEPT_TIMEOUT_S:.0f} s"])
        if job.invalid is not None:
            with self._lock:
                self._jobs.pop(job_id, None)
            raise ValidationFailed([job.invalid])
        return self.get(job_id)

    def cancel(self, job_id: str) -> BacktestJobView:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound("backtest job", job_id)
            if job.state == "running":
                job.state, job.finished_ms = "cancelled", _now_ms()
                if job.process is not None:
                    job.process.terminate()
            return job.view()

    def wait(self, job_id: str, timeout_s: float) -> BacktestJobView:
        """Until the job left ``running`` (tests and shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self.get(job_id).state == "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.get(job_id)

    def close(self) -> None:
        """Terminate every running worker."""
        for job_id in list(self._jobs):
            self.cancel(job_id)

    # ---- internals -----------------------------------------------------------------------------------

    def _check(self, request: BacktestJobRequest) -> Path:
        folder = self.settings.reports_dir
        if folder is None:
            raise Conflict("backtests cannot be started", [NO_REPORTS])
        problems: list[tuple[str, str]] = []
        if request.end_ms <= request.start_ms:
            problems.append(("end_ms", "end is not after start"))
        base = self.settings.base_timeframe
        if not request.timeframe.is_multiple_of(base):
            problems.append(("timeframe", f"the bot stores {base.value} candles: choose {base.value} or a "
                                          "multiple of it"))
        if problems:
            raise ValidationFailed(problems)
        return folder

    def _job_document(self, job: _Job) -> dict[str, Any]:
        r, s = job.request, self.settings
        return {"strategy": r.strategy, "symbol": r.symbol, "timeframe": r.timeframe.value,
                "start_ms": r.start_ms, "end_ms": r.end_ms, "database_url": s.database_url, "market": s.market,
                "base_timeframe": s.base_timeframe.value,
                "config_file": None if s.config_file is None else str(s.config_file), "output": str(job.output)}

    def _follow(self, job: _Job, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                self._apply(job, line)
        assert job.process is not None
        code = job.process.wait()
        with self._lock:
            if job.state == "running":
                job.state, job.finished_ms = "failed", _now_ms()
                job.error = job.error or f"the worker exited with code {code}"
        if job.state != "done":
            job.output.with_name(job.output.name + ".part").unlink(missing_ok=True)
        job.decided.set()

    def _apply(self, job: _Job, line: str) -> None:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            return  # the CLI's own console output (a configuration error is printed, then reported)
        if not isinstance(event, dict):
            return
        kind = event.get("event")
        with self._lock:
            if kind == "done" and job.state == "running":
                job.state, job.result, job.finished_ms = "done", str(event.get("result")), _now_ms()
                job.done = job.total
            elif kind == "invalid":
                job.invalid = (str(event.get("field")), str(event.get("reason")))
            elif kind in ("started", "progress"):
                job.done, job.total = int(event.get("done", 0)), int(event.get("total", 0))
            elif kind == "phase":
                job.phase = str(event["phase"]) if event.get("phase") else None
            elif kind == "failed":
                job.error = str(event.get("reason"))
        if kind in ("invalid", "started", "failed"):
            job.decided.set()

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.state != "running"]
        for key in finished[:-KEPT_FINISHED]:
            del self._jobs[key]


class BacktestJobsFacade:
    """``BacktestJobs`` over the running bot: its database, base timeframe, configuration and
    ``--reports`` folder (``ICTBOT_BACKTEST_JOBS`` workers at once, 1 by default)."""

    app: Application
    p: Pipeline
    _backtest_runner: BacktestJobRunner | None = None

    def backtest_runner(self) -> BacktestJobRunner:
        if self._backtest_runner is None:
            settings = self.app.settings
            self._backtest_runner = BacktestJobRunner(JobSettings(
                reports_dir=settings.reports_dir, database_url=settings.resolved_database_url,
                market=self.p.candle_store.market.value, base_timeframe=self.p.base,
                config_file=settings.config_file if settings.config_file.is_file() else None,
                max_jobs=settings.backtest_jobs,
            ))
        return self._backtest_runner

    async def backtest_jobs(self) -> BacktestJobList:
        return self.backtest_runner().listing()

    async def start_backtest(self, request: BacktestJobRequest) -> BacktestJobView:
        return await asyncio.to_thread(self.backtest_runner().start, request)

    async def backtest_job(self, job_id: str) -> BacktestJobView:
        return self.backtest_runner().get(job_id)

    async def cancel_backtest(self, job_id: str) -> BacktestJobView:
        return self.backtest_runner().cancel(job_id)

    async def stop_backtests(self) -> None:
        if self._backtest_runner is not None:
            await asyncio.to_thread(self._backtest_runner.close)
