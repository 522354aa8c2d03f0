"""Health, status and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.responses import Response

from ictbot.api.deps import facade_of, json_response
from ictbot.api.dto import StatusReport
from ictbot.api.routes.common import ANY_ERRORS, READ_ERRORS
from ictbot.monitoring.reports import HealthReport, HealthState, TradingMetrics

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthReport,
            responses={**ANY_ERRORS, 503: {"description": "trading cannot proceed", "model": HealthReport}})
async def health(request: Request) -> Response:
    """Component health (``healthy | degraded | down`` with reason and ``last_ok_ms``); no
    authentication. 503 when a component is down (trading cannot proceed), else 200."""
    report = await facade_of(request).health()
    return json_response(report, 503 if report.status is HealthState.DOWN else 200)


@router.get("/status", response_model=StatusReport, responses=READ_ERRORS)
async def status(request: Request) -> Response:
    return json_response(await facade_of(request).status())


@router.get("/metrics", response_model=TradingMetrics, responses=READ_ERRORS)
async def metrics(request: Request) -> Response:
    return json_response(await facade_of(request).metrics())


@router.get(
    "/metrics/prometheus",

    responses={200: {"content": {"text/plain": {}}}, **READ_ERRORS},
    response_class=Response,
)
async def prometheus(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
