"""Wires the stages into an ``Application`` for ``ictbot run`` and ``ictbot demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ictbot.app.api_server import ApiServerService
from ictbot.app.application import Application
from ictbot.app.settings import Settings

log = structlog.get_logger(__name__)


def minimal_api(application: Application) -> FastAPI:
    api = FastAPI(title="ictbot", docs_url=None, redoc_url=None, openapi_url=None)

    @api.get("/health")
    async def health() -> JSONResponse:
        status = application.orchestrator.get_health_status()
        return JSONResponse(status, status_code=200 if status["status"] == "healthy" else 503)

    return api


def build_application(settings: Settings) -> Application:
    application = Application(settings)
    api = ApiServerService(minimal_api(application), settings.api_host, settings.api_port)
    application.register(api, depends_on=["config"])
    return application


async def run_bot(settings: Settings, *, data: list[Path] | None = None, speed: float = 60.0,
                  duration: float | None = None) -> list[tuple[str, BaseException]]:
    application = build_application(settings)

    def started(app: Application) -> Any:
        log.info("ictbot running", health=f"http://{settings.api_host}:{settings.api_port}/health")

    return await application.run(on_started=started, duration=duration)
