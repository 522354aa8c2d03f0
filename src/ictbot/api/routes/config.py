"""Configuration: read, partial updates, validation, history and rollback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from ictbot.api.deps import facade_of, json_response
from ictbot.api.dto import (
    ConfigDocument,
    ConfigValidation,
    ConfigVersion,
    ConfigView,
    RiskConfigUpdate,
    StrategyConfigUpdate,
)
from ictbot.api.routes.common import READ_ERRORS, TRADE_ERRORS, errors

router = APIRouter(prefix="/config", tags=["config"])


@router.get("", response_model=ConfigView, responses=READ_ERRORS)
async def get_config(request: Request) -> Response:
    return json_response(await facade_of(request).get_config())


@router.put("/strategy", response_model=ConfigView, responses={**TRADE_ERRORS, **errors(404)})
async def update_strategy(update: StrategyConfigUpdate, request: Request) -> Response:
    return json_response(await facade_of(request).update_strategy_config(update))


@router.put("/risk", response_model=ConfigView, responses=TRADE_ERRORS)
async def update_risk(update: RiskConfigUpdate, request: Request) -> Response:
    return json_response(await facade_of(request).update_risk_config(update))


@router.post("/validate", response_model=ConfigValidation, responses=READ_ERRORS)
async def validate(document: ConfigDocument, request: Request) -> Response:
    """Check a candidate change without applying it; always 200 with ``valid`` and field reasons."""
    return json_response(await facade_of(request).validate_config(document))


@router.get("/history", response_model=list[ConfigVersion], responses=READ_ERRORS)
async def history(request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Response:
    return json_response(await facade_of(request).config_history(limit))


@router.post(
    "/rollback/{version}", response_model=ConfigView, responses={**TRADE_ERRORS, **errors(404)}
)
async def rollback(version: Annotated[int, Path(ge=1, le=10**9)], request: Request) -> Response:
    return json_response(await facade_of(request).rollback_config(version))
