"""Run the API with uvicorn on the application's event loop (same loop as the bus)."""

from __future__ import annotations

import logging
import re

import structlog
import uvicorn
from fastapi import FastAPI

from ictbot.api.settings import ApiSettings

log = structlog.get_logger(__name__)

_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s\"]+", re.I)


class RedactTokenFilter(logging.Filter):
    """Access logs print the query string; a ``?token=`` must never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_QUERY.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_QUERY.sub(r"\1***", record.msg)
        return True


def build_server(app: FastAPI, settings: ApiSettings, *, access_log: bool = False) -> uvicorn.Server:
    """A uvicorn server for ``app``; ``await server.serve()`` inside the application's loop."""
    if not settings.is_loopback:
        log.warning("API bound to a non-loopback address; keep tokens secret and use TLS in front",
                    host=settings.host)
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(RedactTokenFilter())
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=access_log,
        log_config=None,
        ws_max_size=settings.ws_max_message_bytes,
        server_header=False,
        lifespan="on",
    )
    return uvicorn.Server(config)


async def serve(app: FastAPI, settings: ApiSettings) -> None:
    await build_server(app, settings).serve()
