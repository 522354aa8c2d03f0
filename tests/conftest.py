"""Shared test fixtures: location of ../shared and service availability.

Tests that need PostgreSQL, NATS or Redis skip with a reason when the service is absent, except
under ``ICTBOT_REQUIRE_SERVICES=1`` (CI), where a missing service fails the test instead.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    env = os.environ.get("ICTBOT_SHARED_DIR")
    if env:
        return Path(env)
    for candidate in (REPO_ROOT.parent / "shared", REPO_ROOT / "shared"):
        if candidate.is_dir():
            return candidate
    return REPO_ROOT.parent / "shared"


SHARED = _find_shared()
DATA = SHARED / "data"
FIXTURES = SHARED / "binance-fixtures"

SERVICES = {
    "postgres": ("127.0.0.1", 5432),
    "nats": ("127.0.0.1", 4222),
    "redis": ("127.0.0.1", 6379),
}


def services_required() -> bool:
    return os.environ.get("ICTBOT_REQUIRE_SERVICES", "") not in ("", "0", "false")


def service_available(name: str) -> bool:
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    """Skip (or, under ICTBOT_REQUIRE_SERVICES=1, fail) when ``name`` is not reachable."""
    if service_available(name):
        return
    host, port = SERVICES[name]
    message = f"{name} not reachable on {host}:{port}"
    if services_required():
        pytest.fail(f"{message} and ICTBOT_REQUIRE_SERVICES=1")
    pytest.skip(message)


def require_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data {path} not present")
    return path


@pytest.fixture
def shared_dir() -> Path:
    return require_shared(SHARED)


def pytest_collection_finish(session: pytest.Session) -> None:
    # What the imports built stays for the whole run: frozen, so that the collection after each
    # module (below) and the collector's own passes walk only what the tests made (~0.3 s -> ~1 ms).
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="module", autouse=True)
def _module_garbage_collected() -> Iterator[None]:
    """Collects garbage when a module's tests are done, so a file, socket or event loop it left
    unclosed fails that module (warnings are errors) instead of whichever later test the collector
    happens to run in."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A test that calls ``configure_logging`` leaves handlers bound to its captured (then closed)
    stderr; a later test's log record would then fail in ``Handler.handleError`` and print its
    traceback unredacted. Each test gets back the root logger it found."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def _plain_tracebacks_for_unconfigured_structlog() -> None:
    """In-process bots log through structlog's default configuration (the app configures logging only
    in ``ictbot run`` and ``ictbot demo``), whose rich traceback with locals costs ~1.2 s of CPU per logged exception
    (bench/log_exceptions.py): a database-outage test logging a few per candle spent most of its time
    rendering them into pytest's capture. Same lines, plain Python tracebacks."""
    import structlog

    processors = list(structlog.get_config()["processors"])
    if processors and isinstance(processors[-1], structlog.dev.ConsoleRenderer):
        processors[-1] = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
        structlog.configure(processors=processors)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the indicator kernels before the first test when this checkout has no numba cache yet
    (a fresh clone, as in CI): otherwise the first ICT backtest compiles them (1–2 min of CPU) inside its
    own per-test timeout. With the cache in place this only reads numba's index files."""
    _plain_tracebacks_for_unconfigured_structlog()
    from ictbot.indicators import kernels

    if kernels.available() and not kernels.compiled():
        sys.__stderr__.write("compiling the indicator kernels once for this checkout (1-2 min) ...\n")
        kernels.warm_up()
