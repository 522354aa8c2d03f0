"""The application facade the API calls (placeholder until the full facade lands)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ictbot.app.application import Application


def build_api(application: Application, pipeline: Any) -> FastAPI:
    api = FastAPI(title="ictbot")

    @api.get("/health")
    async def health() -> JSONResponse:
        status = application.orchestrator.get_health_status()
        return JSONResponse(status, status_code=200 if status["status"] == "healthy" else 503)

    return api
