"""``SimulatorServer``: run the simulated exchange on 127.0.0.1, in-process (asyncio task) or in a
background thread, and restart it with its state kept.

    async with SimulatorServer(SimConfig(seed=7)) as sim:
        sim.base_url      # http://127.0.0.1:<port>   (spot /api/v3 and USD-M /fapi)
        sim.ws_url        # ws://127.0.0.1:<port>     (/ws/<stream>, /stream?streams=)
        sim.ws_api_url    # ws://127.0.0.1:<port>/ws-api/v3
        sim.futures_ws_url  # ws://127.0.0.1:<port>/fstream  (/market/ws/..., /private/ws/<listenKey>)
        await sim.control.step(10)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

import uvicorn

from ictbot.exchange_sim.clock import SimClock
from ictbot.exchange_sim.config import SimConfig
from ictbot.exchange_sim.control import SimControl
from ictbot.exchange_sim.core import Simulator
from ictbot.exchange_sim.server.app import build_app

T = TypeVar("T")


class SimulatorServer:
    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.sim: Simulator | None = None
        self.port = self.config.port
        self._server: uvicorn.Server | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._replay_task: asyncio.Task[None] | None = None
        self._control: SimControl | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- addresses -------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def futures_base_url(self) -> str:
        return self.base_url

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def ws_api_url(self) -> str:
        return f"{self.ws_url}/ws-api/v3"

    @property
    def futures_ws_url(self) -> str:
        return f"{self.ws_url}/fstream"

    @property
    def control(self) -> SimControl:
        if self._control is None:
            raise RuntimeError("simulator not started")
        return self._control

    @property
    def clock(self) -> SimClock:
        """The exchange clock (``ictbot.ports.clock.Clock``): inject it into a bot on simulated time."""
        if self.sim is None:
            raise RuntimeError("simulator not started")
        return self.sim.clock

    # ---- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> SimulatorServer:
        if self.sim is None:
            self.sim = Simulator(self.config)
            self._control = SimControl(self.sim, self._restart)
        await self._listen()
        self._replay_task = asyncio.create_task(self.sim.run(), name="sim-replay")
        return self

    async def _listen(self) -> None:
        assert self.sim is not None and self._control is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self.sim, self._control), log_level="warning", lifespan="off", access_log=False,
            ws_ping_interval=self.config.ping_interval_s, ws_ping_timeout=60.0, timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
        self._serve_task = asyncio.create_task(self._server.serve(sockets=[sock]), name="sim-http")
        while not self._server.started:
            if self._serve_task.done():
                self._serve_task.result()
            await asyncio.sleep(0.005)

    async def _stop_listening(self) -> None:
        if self.sim is not None:
            self.sim.hub.drop(None, 1012)  # "service restart"
        if self._server is not None:
            self._server.should_exit = True
        if self._serve_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._serve_task
        self._server = None
        self._serve_task = None

    async def _restart(self, downtime_s: float) -> None:
        await self._stop_listening()
        if downtime_s > 0:
            await asyncio.sleep(downtime_s)
        await self._listen()

    async def stop(self) -> None:
        await self._stop_listening()
        if self._replay_task is not None:
            self._replay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay_task
            self._replay_task = None
        if self.sim is not None and self.config.state_file:
            self.sim.save_state(self.config.state_file)

    async def __aenter__(self) -> SimulatorServer:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    # ---- background thread (for synchronous callers) ------------------------------------------------

    def start_in_thread(self) -> SimulatorServer:
        """Run the server on its own event loop in a daemon thread; returns once it accepts connections."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as error:  # pragma: no cover - reported to the caller
                failure.append(error)
                loop.close()
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=main, name="exchange-sim", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine (e.g. ``server.control.step(3)``) on the server's thread and wait for it."""
        if self._loop is None:
            raise RuntimeError("call() needs start_in_thread()")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def stop_in_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = None
            self._thread = None
