"""Backtests started from the dashboard: each runs in a worker process as ``ictbot backtest`` would,
over the candles the bot has stored; its result lands in the ``--reports`` folder (``GET /backtests``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from ictbot.api.deps import facade_of, json_response
from ictbot.api.routes.common import READ_ERRORS, TRADE_ERRORS, errors
from ictbot.ports.dashboard import BacktestJobList, BacktestJobRequest, BacktestJobs, BacktestJobView
from ictbot.ports.facade import Conflict, NotFound

router = APIRouter(prefix="/jobs", tags=["backtests"])  # included under /backtests
JobId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[a-f0-9]+$")]
UNSUPPORTED = "this server cannot run backtests (its facade has no backtest runner)"


def _jobs(request: Request) -> BacktestJobs | None:
    facade = facade_of(request)
    return facade if isinstance(facade, BacktestJobs) else None


def _runner(request: Request) -> BacktestJobs:
    jobs = _jobs(request)
    if jobs is None:
        raise Conflict("backtests cannot be started", [UNSUPPORTED])
    return jobs


@router.get("", response_model=BacktestJobList, responses=READ_ERRORS)
async def list_jobs(request: Request) -> Response:
    """Running and recently finished backtests; ``available`` false with the ``reason`` when none can
    be started (no ``--reports`` folder)."""
    jobs = _jobs(request)
    if jobs is None:
        return json_response(BacktestJobList(available=False, reason=UNSUPPORTED, max_jobs=0))
    return json_response(await jobs.backtest_jobs())


@router.post("", status_code=202, response_model=BacktestJobView, responses=TRADE_ERRORS)
async def start_job(body: BacktestJobRequest, request: Request) -> Response:
    """Start a backtest in a worker process; answers once the worker accepted it (422 with the field and
    the reason when not: unknown strategy, end not after start, no stored candles in the range...;
    409 when no more may run or the server has no ``--reports`` folder). Poll ``GET /backtests/jobs/{id}``
    for its progress."""
    return json_response(await _runner(request).start_backtest(body), status_code=202)


@router.get("/{job_id}", response_model=BacktestJobView, responses={**READ_ERRORS, **errors(404)})
async def get_job(job_id: JobId, request: Request) -> Response:
    """A job's state and progress (candles done of total); ``result`` names its results file once done."""
    jobs = _jobs(request)
    if jobs is None:
        raise NotFound("backtest job", job_id)
    return json_response(await jobs.backtest_job(job_id))


@router.delete("/{job_id}", response_model=BacktestJobView, responses={**TRADE_ERRORS, **errors(404)})
async def cancel_job(job_id: JobId, request: Request) -> Response:
    """Stop a running backtest (its worker is terminated, no result is written); a finished job is
    returned as it is."""
    jobs = _jobs(request)
    if jobs is None:
        raise NotFound("backtest job", job_id)
    return json_response(await jobs.cancel_backtest(job_id))
