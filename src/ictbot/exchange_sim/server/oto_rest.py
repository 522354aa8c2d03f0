"""Spot REST ``POST /api/v3/orderList/oto`` and ``/otoco`` (engine side: ``engine.oto``)."""

from __future__ import annotations

from typing import Any

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine.model import OrderRequest
from ictbot.exchange_sim.errors import mandatory
from ictbot.exchange_sim.server import payloads
from ictbot.exchange_sim.server.context import Ctx, Endpoint, fixed_weight
from ictbot.exchange_sim.server.params import Params
from ictbot.exchange_sim.server.spot_rest import _client_id, order_request


def _leg(params: Params, prefix: str, side_name: str, quantity_name: str) -> OrderRequest:
    quantity = params.decimal(quantity_name)
    if quantity is None:
        raise mandatory(quantity_name)
    return order_request(params, prefix, params.required(side_name), quantity)


async def _place(ctx: Ctx, pending: tuple[OrderRequest, ...]) -> Any:
    params = ctx.params
    working = _leg(params, "working", "workingSide", "workingQuantity")
    engine = ctx.sim.engine
    from ictbot.exchange_sim.engine.oto import place_oto

    order_list, orders, events = place_oto(engine, ctx.account, params.required("symbol"), working, pending,
                                           ctx.now, _client_id(params, "listClientOrderId"))
    ctx.sim.dispatch(events)
    current = [engine.orders[(Market.SPOT, o.symbol, o.order_id)] for o in orders]
    return payloads.order_list(engine.lists[order_list.order_list_id], current, ctx.now)


async def new_oto(ctx: Ctx) -> Any:
    return await _place(ctx, (_leg(ctx.params, "pending", "pendingSide", "pendingQuantity"),))


async def new_otoco(ctx: Ctx) -> Any:
    params = ctx.params
    above = _leg(params, "pendingAbove", "pendingSide", "pendingQuantity")
    below = _leg(params, "pendingBelow", "pendingSide", "pendingQuantity")
    return await _place(ctx, (above, below))


def endpoints() -> list[Endpoint]:
    return [
        Endpoint("POST", "/api/v3/orderList/oto", new_oto, fixed_weight(1), "SIGNED", Market.SPOT,
                 places_order=True, free_on_success=True),
        Endpoint("POST", "/api/v3/orderList/otoco", new_otoco, fixed_weight(1), "SIGNED", Market.SPOT,
                 places_order=True, free_on_success=True),
    ]
