"""FastAPI application factory: thin routes over ``TradingFacade``, WebSocket feed, dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from starlette.responses import FileResponse, RedirectResponse, Response

from ictbot.api.auth import TokenAuthority, load_or_create_tokens, required_scope
from ictbot.api.broadcaster import Broadcaster
from ictbot.api.docs import mount_docs
from ictbot.api.errors import install_error_handlers
from ictbot.api.middleware import AuthMiddleware, GuardMiddleware
from ictbot.api.routes import analytics, backtests, config, dashboard, signals, system, trading
from ictbot.api.settings import ApiSettings
from ictbot.api.ws import websocket_endpoint
from ictbot.ports.dashboard import BacktestJobs
from ictbot.ports.facade import TradingFacade
from ictbot.ports.tasks import TaskSupervisor

STATIC_DIR = Path(__file__).with_name("static")


def create_app(
    facade: TradingFacade,
    settings: ApiSettings | None = None,
    *,
    broadcaster: Broadcaster | None = None,
    registry: CollectorRegistry | None = None,
    tokens: TokenAuthority | None = None,
    announce: Callable[[str], None] | None = None,
    metrics_interval_s: float = 5.0,
    tasks: TaskSupervisor | None = None,
) -> FastAPI:
    """Build the API. The caller owns the broadcaster's bus wiring (``broadcaster.attach(bus)``).

    ``registry`` is the Prometheus registry served at ``/metrics/prometheus`` (the monitoring
    package's dedicated one); ``tokens`` overrides token loading (tests); ``tasks`` is the
    supervisor the WebSocket heartbeat and metric loops run under (the application's, so
    ``/status`` lists them; without one they are plain tasks).
    """
    settings = settings or ApiSettings()
    if tokens is None:
        tokens = load_or_create_tokens(settings) if announce is None else load_or_create_tokens(settings, announce)
    app = FastAPI(
        title="ictbot API",
        version="1",
        lifespan=_lifespan,
        docs_url=None,  # served from the package by mount_docs (FastAPI's default pulls a CDN)
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.facade = facade
    app.state.settings = settings
    app.state.tokens = tokens
    app.state.broadcaster = broadcaster or Broadcaster(
        queue_size=settings.ws_queue_size, ring_size=settings.ws_ring_size, heartbeat_s=settings.ws_heartbeat_s
    )
    app.state.registry = registry or CollectorRegistry(auto_describe=True)
    app.state.metrics_interval_s = metrics_interval_s
    app.state.tasks = tasks
    _add_routes(app, settings)
    _add_middleware(app, settings, tokens)
    app.openapi = lambda: _openapi_with_bearer(app)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    await start_background(app)
    try:
        yield
    finally:
        await stop_background(app)


def _add_routes(app: FastAPI, settings: ApiSettings) -> None:
    install_error_handlers(app)
    for router in (system.router, config.router, trading.router, analytics.router, signals.router,
                   dashboard.router, backtests.router):
        app.include_router(router)
    app.add_api_websocket_route("/ws", websocket_endpoint)
    if settings.docs_enabled:
        mount_docs(app)  # before the dashboard's /static mount, which would shadow /static/docs
    if settings.dashboard_enabled:
        _mount_dashboard(app)


def _add_middleware(app: FastAPI, settings: ApiSettings, tokens: TokenAuthority) -> None:
    # add_middleware wraps: the last added runs first. Order per request: size limit and security
    # headers, CORS (so even a 401 carries CORS headers), authentication, routing.
    app.add_middleware(AuthMiddleware, tokens=tokens)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
        )
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes)


def _openapi_with_bearer(app: FastAPI) -> dict[str, Any]:
    """The generated schema plus the bearer scheme on every non-public operation."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "API token (read or trade scope)"}
        }
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                needed = required_scope(method.upper(), path)
                if needed is not None:
                    operation["security"] = [{"bearer": []}]
                    operation["description"] = f"Needs a {needed.value}-scope token. " + operation.get(
                        "description", "")
        app.openapi_schema = schema
    return app.openapi_schema


async def start_background(app: FastAPI) -> None:
    """Start the WebSocket heartbeats and metric feed. Run by the ASGI lifespan; call it yourself
    when the server runs with ``lifespan="off"``. Idempotent."""
    broadcaster: Broadcaster = app.state.broadcaster
    await broadcaster.start(app.state.facade.metrics, app.state.metrics_interval_s,
                            tasks=getattr(app.state, "tasks", None))


async def stop_background(app: FastAPI) -> None:
    """Stop heartbeats, close every WebSocket client (code 1001) and end running backtest workers."""
    broadcaster: Broadcaster = app.state.broadcaster
    await broadcaster.stop()
    if isinstance(app.state.facade, BacktestJobs):
        await app.state.facade.stop_backtests()


def _mount_dashboard(app: FastAPI) -> None:
    """The page holds no data: it asks for a token and reads everything through the API."""

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/dashboard")

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard() -> Response:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
