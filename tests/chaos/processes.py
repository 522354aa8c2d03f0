"""The two processes of a chaos session: a standalone simulator and the bot, each killable with -9.

Both run as ``python -m ictbot`` subprocesses so a kill is a real ``SIGKILL`` of a real process:
nothing the bot holds in memory survives, only its database and the exchange's state file.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
SYMBOL = "BTCUSDT"
API_KEY = "chaos-session-key"
API_SECRET = "chaos-session-secret"
API_TOKEN = "chaos-api-token-0123456789"
# A process start (imports, warm-up) took over 120 s on a 2-core machine at load 15: generous.
START_TIMEOUT_S = 300.0


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL when the session's process dies (a killed campaign leaves no strays)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


@functools.cache
def sim_option_exists(option: str) -> bool:
    """``--lenient-time`` (older simulators; newer ones accept wall-clock timestamps by default)."""
    shown = subprocess.run([sys.executable, "-m", "ictbot", "sim", "--help"], env=python_env({}),
                           capture_output=True, text=True, timeout=120, check=False)
    return option in shown.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def python_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "ICTBOT_", "DATABASE_"))}
    env["PYTHONPATH"] = str(REPO_ROOT / "src")
    env.update(extra)
    return env


def wait_until_answers(url: str, timeout_s: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=1.0)
            return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


def kill9(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def stop_gently(process: subprocess.Popen[bytes] | None, timeout_s: float = 15.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill9(process)


@dataclass
class SimProcess:
    """``ictbot sim`` replaying one candle file on a fixed port with its state in a file."""

    workdir: Path
    data_file: Path
    speed: float
    seed: int
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    observer_id: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = self.port or free_port()
        command = [sys.executable, "-m", "ictbot", "sim", "--data", str(self.data_file), "--speed", str(self.speed),
                   "--port", str(self.port), "--seed", str(self.seed), "--state", str(self.workdir / "sim.state"),
                   "--no-futures"]
        # The bot runs on the wall clock while the exchange replays at 120×: its timestamps must pass.
        command += ["--lenient-time"] if sim_option_exists("--lenient-time") else []
        with (self.workdir / "sim.log").open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(command, env=python_env({}), stdout=log, stderr=log, cwd=self.workdir,
                                            preexec_fn=_die_with_parent)
        wait_until_answers(f"{self.base_url}/_sim/state", START_TIMEOUT_S, self.process)

    def kill(self) -> None:
        kill9(self.process)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.base_url}/_sim/{path}", timeout=10.0, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def fault(self, fault_type: str, /, **arguments: Any) -> None:
        self.control("POST", "fault", json={"type": fault_type, **arguments})

    def public(self, path: str, **params: Any) -> Any:
        """An unsigned GET (market data, exchangeInfo)."""
        response = httpx.get(f"{self.base_url}{path}", params=params, timeout=10.0)
        response.raise_for_status()
        return response.json()

    def signed(self, path: str, **params: Any) -> Any:
        """A signed GET as the bot's account, rate-limited apart from the bot (``X-Sim-Client``).

        A forced 429 is counted for whoever asks next, so the observer may catch one; it then takes a
        fresh client id instead of waiting, because a ban in server time never ends while the replay
        is paused, and the observer is not what is under test.
        """
        params["timestamp"] = self.control("GET", "state")["serverTime"]
        # Binance's maximum: the default 5 s of exchange time is 42 ms of ours at 120×; on a loaded
        # machine the observer's reads failed with -1021 and its samples were silently skipped.
        params["recvWindow"] = 60_000
        query = urlencode(params)
        signature = hmac.new(API_SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
        headers = {"X-Sim-Client": f"chaos-observer-{self.observer_id}", "X-MBX-APIKEY": API_KEY}
        response = httpx.get(f"{self.base_url}{path}?{query}&signature={signature}", headers=headers, timeout=10.0)
        if response.status_code in (418, 429):
            self.observer_id += 1
        response.raise_for_status()
        return response.json()


@dataclass
class BotProcess:
    """``ictbot run --mode testnet`` pointed at the simulator, with its own data dir and API port."""

    workdir: Path
    sim: SimProcess
    database_url: str | None = None
    api_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    up_since: float | None = None  # monotonic time its API first answered after the last start

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def write_config(self, risk: dict[str, Any], execution: dict[str, Any]) -> None:
        # recvWindow at Binance's maximum: the exchange replays at 120×, so the default 5 s of its time
        # is 42 ms of ours; on a loaded machine the bot's signed requests (and starts) failed with -1021.
        config = {"exchange": {"symbols": [SYMBOL], "base_timeframe": "5m", "context_timeframes": ["15m", "1h"],
                               "recv_window_ms": 60_000},
                  "strategies": {}, "risk": risk, "execution": execution}
        (self.workdir / "config.json").write_text(json.dumps(config))

    def environment(self) -> dict[str, str]:
        sim = self.sim.base_url.removeprefix("http://")
        env = {"TRADING_MODE": "testnet", "BINANCE_API_KEY": API_KEY, "BINANCE_SECRET_KEY": API_SECRET,
               "BINANCE_REST_URL": f"http://{sim}", "BINANCE_WS_URL": f"ws://{sim}",
               "BINANCE_WS_API_URL": f"ws://{sim}/ws-api/v3", "ICTBOT_API_TOKEN": API_TOKEN,
               "ICTBOT_CONFIG_FILE": str(self.workdir / "config.json"), "LOG_DIR": str(self.workdir),
               "DATABASE_PATH": str(self.workdir / "bot.db"), "API_PORT": str(self.api_port)}
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def spawn(self) -> None:
        """Start the process without waiting for it (the session keeps sampling the exchange meanwhile)."""
        self.api_port = self.api_port or free_port()
        with (self.workdir / "bot.log").open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([sys.executable, "-m", "ictbot", "run"],
                                            env=python_env(self.environment()), stdout=log, stderr=log,
                                            cwd=self.workdir, preexec_fn=_die_with_parent)
        self.starts += 1
        self.up_since = None

    def ready(self) -> bool:
        if not self.running:
            return False
        try:
            answered = self.api("GET", "/status", timeout_s=2.0).status_code == 200
        except httpx.HTTPError:
            return False
        if answered and self.up_since is None:
            self.up_since = time.monotonic()
        return answered

    def start(self) -> None:
        self.spawn()
        assert self.process is not None
        wait_until_answers(f"{self.api_url}/health", START_TIMEOUT_S, self.process)
        self.up_since = time.monotonic()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        kill9(self.process)

    def stop(self) -> None:
        stop_gently(self.process)

    def api(self, method: str, path: str, timeout_s: float = 10.0, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        return httpx.request(method, f"{self.api_url}{path}", headers=headers, timeout=timeout_s, **kwargs)
