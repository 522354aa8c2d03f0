"""``/_sim/*``: the control API over HTTP (for a simulator in another process). Never under /api."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ictbot.exchange_sim.control import SimControl


def routes(control: SimControl) -> list[Route]:
    endpoints = _Endpoints(control)
    return [
        Route("/_sim/state", endpoints.state, methods=["GET"]),
        Route("/_sim/step", endpoints.step, methods=["POST"]),
        Route("/_sim/pause", endpoints.pause, methods=["POST"]),
        Route("/_sim/resume", endpoints.resume, methods=["POST"]),
        Route("/_sim/skew", endpoints.skew, methods=["POST"]),
        Route("/_sim/fault", endpoints.fault, methods=["POST"]),
        Route("/_sim/requests", endpoints.requests, methods=["GET"]),
        Route("/_sim/restart", endpoints.restart, methods=["POST"]),
    ]


class _Endpoints:
    """The handlers of ``routes``, over one ``SimControl``."""

    def __init__(self, control: SimControl) -> None:
        self.control = control

    async def state(self, request: Request) -> JSONResponse:
        return JSONResponse(self.control.state())

    async def step(self, request: Request) -> JSONResponse:
        candles = int(request.query_params.get("candles", "1"))
        played = await self.control.step(candles)
        return JSONResponse({"played": played, **self.control.state()})

    async def pause(self, request: Request) -> JSONResponse:
        self.control.pause()
        return JSONResponse(self.control.state())

    async def resume(self, request: Request) -> JSONResponse:
        speed = request.query_params.get("speed")
        try:
            self.control.resume((float("inf") if speed in ("max", "inf") else float(speed)) if speed else None)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse(self.control.state())

    async def skew(self, request: Request) -> JSONResponse:
        self.control.set_skew_ms(int(request.query_params.get("ms", "0")))
        return JSONResponse(self.control.state())

    def fault_actions(self) -> dict[str, Callable[..., Any]]:
        """``POST /_sim/fault`` body ``{"type": ..., **arguments}``: the control method each type calls."""
        control = self.control
        actions: dict[str, Callable[..., Any]] = {
            "response": control.lose_next_response, "reject_order": control.reject_next_order,
            "rate_limit": control.force_rate_limit, "delay": control.delay_responses, "drop_ws": control.drop_ws,
            "server_shutdown": control.server_shutdown,
            "drop_event": control.drop_next_events, "stall": control.stall_market,
            "duplicate_event": control.duplicate_next_events, "delay_event": control.delay_next_events,
            "participation": control.set_participation,
            "weight_limit": control.set_weight_limit, "order_limits": control.set_order_limits,
            "symbol_status": control.set_symbol_status,
        }
        return actions

    async def fault(self, request: Request) -> JSONResponse:
        body: dict[str, Any] = await request.json()
        kind = body.pop("type")
        actions = self.fault_actions()
        action = actions.get(kind)
        if action is None:
            return JSONResponse({"error": f"unknown fault type {kind!r}", "types": sorted(actions)}, 400)
        try:
            result = action(**body)
        except (TypeError, ValueError, KeyError) as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse({"ok": True, "result": result})

    async def requests(self, request: Request) -> JSONResponse:
        return JSONResponse({"count": self.control.requests(request.query_params.get("path"),
                                                            request.query_params.get("method"))})

    async def restart(self, request: Request) -> JSONResponse:
        import asyncio

        downtime = float(request.query_params.get("downtime", "0"))
        asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(self.control.restart(downtime)))
        return JSONResponse({"restarting": True, "downtime": downtime})
