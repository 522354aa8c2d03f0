"""Run the API with uvicorn on the application's event loop (same loop as the bus)."""

from __future__ import annotations

import logging
import re
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI

from ictbot.api.settings import ApiSettings

log = structlog.get_logger(__name__)

_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s\"]+", re.I)

# The broadcaster's direct path (``ws_direct_path.frame_sink``) needs uvicorn's sansio WebSocket protocol and
# uncompressed frames: a permessage-deflate stream is compressed per client, so no frame could be
# shared, and compressing each message for each client costs more CPU than the small JSON messages
# save on a loopback or LAN link. Browsers always offer deflate, hence off here.
UVICORN_WS_OPTIONS: dict[str, Any] = {"ws": "websockets-sansio", "ws_per_message_deflate": False}


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
        **UVICORN_WS_OPTIONS,
        server_header=False,
        lifespan="on",
    )
    return uvicorn.Server(config)


async def serve(app: FastAPI, settings: ApiSettings) -> None:
    await build_server(app, settings).serve()
