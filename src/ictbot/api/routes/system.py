"""Health, status and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.responses import Response

from ictbot.api.deps import READ, Facade, json_response
from ictbot.api.routes.common import READ_ERRORS, errors
from ictbot.ports.facade import HealthReport, HealthState, StatusReport, TradingMetrics

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthReport, responses=errors(503))
async def health(facade: Facade) -> Response:
    """Liveness and component health; no authentication. 503 unless every component is healthy."""
    report = await facade.health()
    return json_response(report, 200 if report.status is HealthState.HEALTHY else 503)


@router.get("/status", response_model=StatusReport, dependencies=READ, responses=READ_ERRORS)
async def status(facade: Facade) -> Response:
    return json_response(await facade.status())


@router.get("/metrics", response_model=TradingMetrics, dependencies=READ, responses=READ_ERRORS)
async def metrics(facade: Facade) -> Response:
    return json_response(await facade.metrics())


@router.get(
    "/metrics/prometheus",
    dependencies=READ,
    responses={200: {"content": {"text/plain": {}}}, **READ_ERRORS},
    response_class=Response,
)
async def prometheus(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
