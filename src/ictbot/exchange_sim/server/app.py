"""The ASGI application: REST (spot + USD-M), WebSockets and the ``/_sim`` control routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from ictbot.exchange_sim.server import control_http, futures_rest, oto_rest, spot_rest, streams
from ictbot.exchange_sim.server.context import Endpoint
from ictbot.exchange_sim.server.rest import client_id, handle

if TYPE_CHECKING:
    from ictbot.exchange_sim.control import SimControl
    from ictbot.exchange_sim.core import Simulator

FUTURES_ROUTES = ("market", "public", "private")


def _rest_routes(sim: Simulator) -> list[BaseRoute]:
    table: dict[str, dict[str, Endpoint]] = {}
    all_endpoints = spot_rest.endpoints() + oto_rest.endpoints() + (
        futures_rest.endpoints() if sim.config.futures else [])
    for endpoint in all_endpoints:
        table.setdefault(endpoint.path, {})[endpoint.method] = endpoint

    def make(path: str) -> Callable[[Request], Awaitable[Response]]:
        methods = table[path]

        async def route(request: Request) -> Response:
            endpoint = methods.get(request.method)
            if endpoint is None:
                return JSONResponse({"code": -1000, "msg": "An unknown error occured while processing the request."},
                                    405)
            return await handle(sim, endpoint, request)

        return route

    return [Route(path, make(path), methods=list(methods)) for path, methods in table.items()]


def _ws_routes(sim: Simulator) -> list[BaseRoute]:
    async def spot_raw(websocket: WebSocket) -> None:
        await streams.market_stream(sim, websocket, "spot-market", False,
                                    streams._split(websocket.path_params.get("streams")))

    async def spot_combined(websocket: WebSocket) -> None:
        await streams.market_stream(sim, websocket, "spot-market", True,
                                    streams._split(websocket.query_params.get("streams")))

    async def ws_api(websocket: WebSocket) -> None:
        host = websocket.headers.get("x-sim-client") or (websocket.client.host if websocket.client else "local")
        await streams.ws_api(sim, websocket, host)

    async def futures_raw(websocket: WebSocket) -> None:
        names = streams._split(websocket.path_params.get("streams"))
        listen_key = websocket.query_params.get("listenKey")
        keys = [n for n in names if "@" not in n] + ([listen_key] if listen_key else [])
        if keys or websocket.path_params.get("route") == "private":
            await streams.futures_user_stream(sim, websocket, keys, combined=False)
        else:
            await streams.market_stream(sim, websocket, "futures-market", False, names)

    async def futures_combined(websocket: WebSocket) -> None:
        names = streams._split(websocket.query_params.get("streams"))
        keys = [n for n in names if "@" not in n]
        listen_key = websocket.query_params.get("listenKey")
        if listen_key:
            keys.append(listen_key)
        if keys:
            await streams.futures_user_stream(sim, websocket, keys, combined=True)
        else:
            await streams.market_stream(sim, websocket, "futures-market", True, names)

    routes: list[BaseRoute] = [
        WebSocketRoute("/ws", spot_raw),
        WebSocketRoute("/ws/{streams:path}", spot_raw),
        WebSocketRoute("/stream", spot_combined),
        WebSocketRoute("/ws-api/v3", ws_api),
    ]
    if sim.config.futures:
        routes += [
            WebSocketRoute("/fstream/ws", futures_raw),
            WebSocketRoute("/fstream/ws/{streams:path}", futures_raw),
            WebSocketRoute("/fstream/stream", futures_combined),
            WebSocketRoute("/fstream/{route}/ws", futures_raw),
            WebSocketRoute("/fstream/{route}/ws/{streams:path}", futures_raw),
            WebSocketRoute("/fstream/{route}/stream", futures_combined),
        ]
    return routes


def build_app(sim: Simulator, control: SimControl) -> Starlette:
    _ = client_id  # re-exported for the WS layer's rate-limit key
    return Starlette(routes=[*_rest_routes(sim), *_ws_routes(sim), *control_http.routes(control)])
