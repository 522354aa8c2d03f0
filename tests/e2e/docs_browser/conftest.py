"""The API served on a real socket for the docs pages (the browser is tests/e2e/conftest.py's).

Skips with the reason when Playwright or Chromium is missing; under ``ICTBOT_REQUIRE_SERVICES=1``
(CI) a missing browser fails instead, like a missing database. The browser is never downloaded:
``playwright install`` is not used, the system's ``/usr/bin/chromium`` (or ``ICTBOT_CHROMIUM``) is.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from ictbot.app.api_server import ApiServerService
from tests.unit.api.fakes import FakeFacade

READ_TOKEN = "docs-browser-read-token-0123456789"
TRADE_TOKEN = "docs-browser-trade-token-0123456789"


class _ServedApi:
    """The API (over the in-memory facade) served by the bot's own uvicorn service in a thread."""

    def __init__(self) -> None:
        app = create_app(FakeFacade(), ApiSettings(ws_heartbeat_s=60),
                         tokens=TokenAuthority.from_tokens(TRADE_TOKEN, READ_TOKEN))
        self.service = ApiServerService(app, "127.0.0.1", 0)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="docs-browser-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.service.port}"

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            # an unclosed loop's self-pipe socket is collected later, inside some other test, as a
            # ResourceWarning (= error): the schemathesis test failed on it in the full run
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self.service.initialize()
            await self.service.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.service.stop()

    def __enter__(self) -> _ServedApi:
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"the API did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture(scope="module")
def served_api() -> Iterator[_ServedApi]:
    with _ServedApi() as api:
        yield api
