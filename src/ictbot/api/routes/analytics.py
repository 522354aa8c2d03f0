"""Analytics and market data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from ictbot.api.deps import READ, Facade, json_response
from ictbot.api.routes.common import READ_ERRORS, errors
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.facade import (
    CandleQuery,
    CandleView,
    IndicatorView,
    PerformanceReport,
    RiskReport,
    SymbolName,
    TradePage,
    TradeQuery,
)

router = APIRouter()
READ_ONE = {**READ_ERRORS, **errors(404)}


@router.get("/analytics/performance", tags=["analytics"], response_model=PerformanceReport,
            dependencies=READ, responses=READ_ERRORS)
async def performance(facade: Facade) -> Response:
    return json_response(await facade.performance())


@router.get("/analytics/risk", tags=["analytics"], response_model=RiskReport, dependencies=READ,
            responses=READ_ERRORS)
async def risk(facade: Facade) -> Response:
    return json_response(await facade.risk_report())


@router.get("/analytics/trades", tags=["analytics"], response_model=TradePage, dependencies=READ,
            responses=READ_ERRORS)
async def trades(query: Annotated[TradeQuery, Query()], facade: Facade) -> Response:
    return json_response(await facade.trades(query))


@router.get("/candles", tags=["market"], response_model=list[CandleView], dependencies=READ,
            responses=READ_ONE)
async def candles(query: Annotated[CandleQuery, Query()], facade: Facade) -> Response:
    return json_response(await facade.candles(query))


@router.get("/indicators", tags=["market"], response_model=IndicatorView, dependencies=READ,
            responses=READ_ONE)
async def indicators(
    symbol: Annotated[SymbolName, Query()], facade: Facade, timeframe: Timeframe | None = None
) -> Response:
    return json_response(await facade.indicators(symbol, timeframe.value if timeframe else None))
