"""Analytics and market data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ictbot.api.deps import facade_of, json_response
from ictbot.api.dto import CandleQuery, CandleView, IndicatorView, PerformanceReport, RiskReport, TradePage, TradeQuery
from ictbot.api.dto.fields import SymbolName
from ictbot.api.routes.common import READ_ERRORS, errors
from ictbot.domain.timeframe import Timeframe

router = APIRouter()
READ_ONE = {**READ_ERRORS, **errors(404)}


@router.get("/analytics/performance", tags=["analytics"], response_model=PerformanceReport,
            responses=READ_ERRORS)
async def performance(request: Request) -> Response:
    return json_response(await facade_of(request).performance())


@router.get("/analytics/risk", tags=["analytics"], response_model=RiskReport,
            responses=READ_ERRORS)
async def risk(request: Request) -> Response:
    return json_response(await facade_of(request).risk_report())


@router.get("/analytics/trades", tags=["analytics"], response_model=TradePage,
            responses=READ_ERRORS)
async def trades(query: Annotated[TradeQuery, Query()], request: Request) -> Response:
    return json_response(await facade_of(request).trades(query))


@router.get("/candles", tags=["market"], response_model=list[CandleView],
            responses=READ_ONE)
async def candles(query: Annotated[CandleQuery, Query()], request: Request) -> Response:
    return json_response(await facade_of(request).candles(query))


@router.get("/indicators", tags=["market"], response_model=IndicatorView,
            responses=READ_ONE)
async def indicators(
    symbol: Annotated[SymbolName, Query()], request: Request, timeframe: Timeframe | None = None
) -> Response:
    return json_response(await facade_of(request).indicators(symbol, timeframe.value if timeframe else None))
