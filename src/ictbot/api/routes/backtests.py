"""Backtest results from the ``--reports`` folder: the list and one result with its trades; the jobs
that start new ones (``backtest_jobs``)."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ictbot.api.backtest_reports import (
    NAME_PATTERN,
    BacktestDetail,
    BacktestList,
    NotAResult,
    list_results,
    read_result,
    result_path,
)
from ictbot.api.deps import json_response
from ictbot.api.routes import backtest_jobs
from ictbot.api.routes.common import READ_ERRORS, errors
from ictbot.ports.facade import NotFound

router = APIRouter(prefix="/backtests", tags=["backtests"])
# before /{name}: that pattern would otherwise claim /backtests/jobs
router.include_router(backtest_jobs.router)
ResultName = Annotated[str, Path(min_length=6, max_length=206, pattern=NAME_PATTERN)]


def _folder(request: Request) -> FilePath | None:
    folder: FilePath | None = request.app.state.settings.reports_dir
    return folder


@router.get("", response_model=BacktestList, responses=READ_ERRORS)
async def list_backtests(request: Request) -> Response:
    """The results documents (``ictbot backtest --json``) in the ``--reports`` folder, newest first;
    ``folder`` is null when the server was started without one."""
    return json_response(await run_in_threadpool(list_results, _folder(request)))


@router.get("/{name}", response_model=BacktestDetail, responses={**READ_ERRORS, **errors(404)})
async def get_backtest(name: ResultName, request: Request) -> Response:
    """One result: its summary, metrics, parameters, departures from live, monthly returns and trades."""
    path = result_path(_folder(request), name)
    if path is None:
        raise NotFound("backtest result", name)
    try:
        detail = await run_in_threadpool(read_result, path)
    except (NotAResult, OSError) as exc:  # GET /backtests lists such a file with the reason
        raise NotFound("backtest result", name) from exc
    return json_response(detail)
