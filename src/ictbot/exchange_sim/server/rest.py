"""The REST request pipeline: delay fault → weight → auth → lost-reply fault → handler → headers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ictbot.domain.market import Market
from ictbot.exchange_sim.auth import strip_signature
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.faults import ResponseFault
from ictbot.exchange_sim.server.context import Ctx, Endpoint
from ictbot.exchange_sim.server.params import Params

if TYPE_CHECKING:
    from ictbot.exchange_sim.core import Simulator


def client_id(request: Request) -> str:
    """Rate-limit key: the ``X-Sim-Client`` header (a virtual IP for tests) or the peer address."""
    return request.headers.get("x-sim-client") or (request.client.host if request.client else "local")


async def _lost_reply(fault: ResponseFault, market: Market) -> Response:
    if fault.mode == "hang":
        await asyncio.sleep(fault.hang_seconds)
    if fault.mode == "timeout_1007":
        return JSONResponse({"code": -1007, "msg": "Timeout waiting for response from backend server. Send status "
                                                    "unknown; execution status unknown."}, 408)
    return JSONResponse({"code": -1001, "msg": "Unknown error, please check your request or try again later."}
                        if market is Market.USDM else
                        {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."},
                        503)


async def handle(sim: Simulator, endpoint: Endpoint, request: Request) -> Response:
    method, path = request.method, request.url.path
    body = (await request.body()).decode("utf-8", errors="replace")
    query = request.url.query
    limiter = sim.limiter if endpoint.market is Market.SPOT else sim.futures_limiter
    client = client_id(request)
    headers: dict[str, str] = {}
    status = 200
    counted_order = False
    account = ""
    try:
        delay = sim.faults.take_delay()
        if delay:
            await asyncio.sleep(delay)
        now = sim.now()
        params = Params(query, body)
        weight = endpoint.weight(params)
        limiter.charge(client, weight, now, forced=sim.faults.take_forced_rate_limit())
        if endpoint.security != "NONE":
            account = sim.auth.api_key(request.headers.get("x-mbx-apikey"))
        if endpoint.security == "SIGNED":
            payload = strip_signature(query) + strip_signature(body)
            sim.auth.signature(account, payload, params.get("signature"))
            sim.auth.timestamp(params.get("timestamp"), params.get("recvWindow"), now, sim.wall_ms())
        fault = sim.faults.take_response_fault(method, path)
        if fault is not None and not fault.after_commit:
            return await _lost_reply(fault, endpoint.market)
        if endpoint.places_order:
            rejection = sim.faults.take_order_rejection()
            if rejection is not None:
                raise rejection
            limiter.check_order(account, now)
            limiter.count_order(account, now)
            counted_order = True
        result: Any = await endpoint.handler(Ctx(sim, params, account, now, endpoint.market))
        if endpoint.free_on_success:
            limiter.charge(client, -weight, now)
        if endpoint.places_order:
            count_10s, count_long = limiter.order_counts(account, now)
            headers["X-MBX-ORDER-COUNT-10S"] = str(count_10s)
            headers["X-MBX-ORDER-COUNT-1D" if endpoint.market is Market.SPOT else "X-MBX-ORDER-COUNT-1M"] = str(
                count_long)
        if fault is not None:
            return await _lost_reply(fault, endpoint.market)
        response: Response = JSONResponse(result, status, headers)
    except SimError as error:
        if counted_order:
            limiter.order_filled_first_time(account, sim.now())  # a refused order does not stay "unfilled"
        status = error.http_status
        if error.retry_after is not None:
            headers["Retry-After"] = str(error.retry_after)
        response = JSONResponse(error.body(), status, headers)
    used = limiter.used_weight(client, sim.now())
    response.headers["X-MBX-USED-WEIGHT-1M"] = str(used)
    response.headers["X-MBX-USED-WEIGHT"] = str(used)
    sim.request_log.append((method, path, status))
    return response
