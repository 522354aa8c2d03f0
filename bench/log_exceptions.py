"""What one logged exception costs the console renderer (``ictbot.app.logsetup``), in CPU seconds.

Run: ``.venv/bin/python bench/log_exceptions.py [--repeat 5]``. In the same run, the same exception
(a refused PostgreSQL connection through SQLAlchemy and psycopg, as logged during a database outage)
is rendered by:

* the bot's console renderer (plain Python traceback);
* baseline: structlog's default ``ConsoleRenderer`` (rich traceback with every frame's locals), what
  the bot used before.

Prints CPU seconds per render (best of ``--repeat``), the rendered size, and the ratio baseline / bot.
The renderer runs on the event loop: its time is time the bot does nothing else.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import sqlalchemy as sa  # noqa: E402
import structlog  # noqa: E402

from ictbot.app import logsetup  # noqa: E402

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


def refused_connection() -> ExcInfo:
    """A connection error with a deep traceback (no server needed: port 9 refuses)."""
    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:9/none", poolclass=sa.pool.NullPool)
    try:
        engine.connect()
    except Exception:
        kind, error, trace = sys.exc_info()
        assert kind is not None and error is not None and trace is not None
        return kind, error, trace
    raise RuntimeError("port 9 accepted a PostgreSQL connection")


def cpu_per_render(renderer: Any, exc_info: ExcInfo, repeat: int) -> tuple[float, int]:
    best, size = float("inf"), 0
    for _ in range(repeat):
        started = time.process_time()
        size = len(renderer(None, "error", {"event": "storing candles failed", "exc_info": exc_info}))
        best = min(best, time.process_time() - started)
    return best, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    exc_info = refused_connection()
    bot, bot_size = cpu_per_render(logsetup._CONSOLE, exc_info, args.repeat)
    base, base_size = cpu_per_render(structlog.dev.ConsoleRenderer(colors=False), exc_info, args.repeat)
    print(f"bot console renderer (plain traceback): {bot * 1000:9.2f} ms CPU per exception, {bot_size:7,} chars")
    print(f"baseline (structlog default, rich+locals): {base * 1000:9.2f} ms CPU per exception, {base_size:7,} chars")
    print(f"ratio baseline / bot: {base / max(bot, 1e-9):,.0f}x")


if __name__ == "__main__":
    main()
