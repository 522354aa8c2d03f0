"""Positions, orders, strategies and the trading state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ictbot.api.deps import facade_of, json_response
from ictbot.api.dto import (
    EmergencyStopReport,
    ManualOrderRequest,
    OrderPage,
    OrderQuery,
    OrderView,
    PositionView,
    StrategyView,
    TradingStateView,
)
from ictbot.api.routes.common import READ_ERRORS, TRADE_ERRORS, EntityId, ReasonBody, errors

router = APIRouter()
READ_ONE = {**READ_ERRORS, **errors(404)}
TRADE_ONE = {**TRADE_ERRORS, **errors(404)}


# ---- positions -----------------------------------------------------------------------------------
@router.get("/positions", tags=["positions"], response_model=list[PositionView],
            responses=READ_ERRORS)
async def list_positions(request: Request, include_closed: bool = False) -> Response:
    return json_response(await facade_of(request).list_positions(include_closed))


@router.get("/positions/{position_id}", tags=["positions"], response_model=PositionView,
            responses=READ_ONE)
async def get_position(position_id: EntityId, request: Request) -> Response:
    return json_response(await facade_of(request).get_position(position_id))


@router.post("/positions/{position_id}/close", tags=["positions"], response_model=OrderView,
             responses=TRADE_ONE, status_code=202)
async def close_position(position_id: EntityId, request: Request, body: ReasonBody | None = None) -> Response:
    """Send a reduce-only market order closing the position; 202 with that order."""
    reason = body.reason if body else ""
    return json_response(await facade_of(request).close_position(position_id, reason or "manual close via API"), 202)


# ---- orders --------------------------------------------------------------------------------------
@router.get("/orders", tags=["orders"], response_model=OrderPage, responses=READ_ERRORS)
async def list_orders(query: Annotated[OrderQuery, Query()], request: Request) -> Response:
    return json_response(await facade_of(request).list_orders(query))


@router.get("/orders/{client_order_id}", tags=["orders"], response_model=OrderView,
            responses=READ_ONE)
async def get_order(client_order_id: EntityId, request: Request) -> Response:
    return json_response(await facade_of(request).get_order(client_order_id))


@router.post("/orders", tags=["orders"], response_model=OrderView, responses=TRADE_ERRORS,
             status_code=201)
async def create_order(order: ManualOrderRequest, request: Request) -> Response:
    """Manual order; it passes the risk engine (a denial is a 409 with the reasons)."""
    return json_response(await facade_of(request).create_manual_order(order), 201)


@router.delete("/orders/{client_order_id}", tags=["orders"], response_model=OrderView,
               responses=TRADE_ONE)
async def cancel_order(client_order_id: EntityId, request: Request) -> Response:
    return json_response(await facade_of(request).cancel_order(client_order_id))


# ---- strategies ----------------------------------------------------------------------------------
@router.get("/strategies", tags=["strategies"], response_model=list[StrategyView],
            responses=READ_ERRORS)
async def list_strategies(request: Request) -> Response:
    return json_response(await facade_of(request).list_strategies())


@router.post("/strategies/{strategy_id}/enable", tags=["strategies"], response_model=StrategyView,
             responses=TRADE_ONE)
async def enable_strategy(strategy_id: EntityId, request: Request) -> Response:
    return json_response(await facade_of(request).set_strategy_enabled(strategy_id, True))


@router.post("/strategies/{strategy_id}/disable", tags=["strategies"], response_model=StrategyView,
             responses=TRADE_ONE)
async def disable_strategy(strategy_id: EntityId, request: Request) -> Response:
    return json_response(await facade_of(request).set_strategy_enabled(strategy_id, False))


# ---- trading state -------------------------------------------------------------------------------
@router.post("/trading/halt", tags=["trading"], response_model=TradingStateView,
             responses=TRADE_ERRORS)
async def halt(request: Request, body: ReasonBody | None = None) -> Response:
    """Stop opening positions (existing ones keep their protective orders). Idempotent."""
    reason = body.reason if body else ""
    return json_response(await facade_of(request).halt_trading(reason or "halted via API"))


@router.post("/trading/resume", tags=["trading"], response_model=TradingStateView,
             responses=TRADE_ERRORS)
async def resume(request: Request) -> Response:
    return json_response(await facade_of(request).resume_trading())


@router.post("/emergency-stop", tags=["trading"], response_model=EmergencyStopReport,
             responses=TRADE_ERRORS)
async def emergency_stop(request: Request, body: ReasonBody | None = None) -> Response:
    """Halt, cancel every open order and close every position at market."""
    reason = body.reason if body else ""
    return json_response(await facade_of(request).emergency_stop(reason or "emergency stop via API"))
