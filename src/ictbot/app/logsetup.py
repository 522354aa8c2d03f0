"""Logging: console at LOG_LEVEL, a DEBUG file per run under ``logs/``, secrets redacted everywhere.

The console shows one readable line per record (a record carrying a ``summary`` shows just that:
the trade journal's lines); the file holds JSON lines, one object per record with an ``event``
field (the message, or the journal's event name such as ``signal_rejected``).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import traceback
from collections.abc import Iterable, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from ictbot.filemodes import open_private_append, private_dir

_SENSITIVE_KEYS = re.compile(r"(api[_-]?key|secret|token|signature|password|passphrase|private[_-]?key)", re.I)
_MASK = "***"


class SecretRedactor:
    """Replaces known secret values and values of sensitive-looking keys with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        return text

    def __call__(self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event_dict.items()):
            if _SENSITIVE_KEYS.search(key) and value not in (None, ""):
                event_dict[key] = _MASK
            elif isinstance(value, str):
                event_dict[key] = self.scrub(value)
        return event_dict


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: SecretRedactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            return True  # a structlog event: the REDACTOR processor already scrubbed it
        message = record.getMessage()
        scrubbed = self._redactor.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self._redactor.scrub(text)
            record.exc_info = None
            record.msg = f"{record.getMessage()}\n{record.exc_text}"
            record.args = None
            record.exc_text = None
        return True


def report_logging_error(record: logging.LogRecord) -> None:
    """What ``logging.Handler.handleError`` prints when a handler fails (a closed stream, a full
    disk), with every known secret scrubbed: the stdlib version writes the record's message and
    arguments as they are (``%r`` of a structlog event reaches nested values the processors never
    redacted), so a failing handler could put a key on stderr in production."""
    if not logging.raiseExceptions:
        return
    try:
        error = traceback.format_exc()
        text = (f"--- Logging error ---\n{error}Logger: {record.name}, level {record.levelname}, "
                f"{record.pathname}:{record.lineno}\nMessage: {record.msg!r}\nArguments: {record.args!r}\n")
        sys.stderr.write(REDACTOR.scrub(_masked(text)))
    except Exception:  # stderr itself is gone: nothing left to tell (as the stdlib does)
        pass


def _masked(text: str) -> str:
    """Values that follow a sensitive-looking key in a printed mapping (``'api_key': '...'``)."""
    return _SENSITIVE_VALUE.sub(lambda m: f"{m.group(1)}{_MASK}'", text)


_SENSITIVE_VALUE = re.compile(
    r"""(['"][^'"]*(?:api[_-]?key|secret|token|signature|password|passphrase|private[_-]?key)[^'"]*['"]\s*:\s*')"""
    r"""[^']*'""", re.I)


class _RedactingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    def handleError(self, record: logging.LogRecord) -> None:
        report_logging_error(record)


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every log file (the first and each one after a rollover) is created owner-only."""

    def handleError(self, record: logging.LogRecord) -> None:
        report_logging_error(record)

    def _open(self) -> Any:
        os.close(open_private_append(Path(self.baseFilename)))  # create 0600 before the stream opens it
        return super()._open()


REDACTOR = SecretRedactor()


def log_file_name(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"trading_bot_{moment:%Y%m%d_%H%M%S}.log"


def _quiet_alembic_info(record: logging.LogRecord) -> bool:
    """Alembic's per-start INFO lines (plugin setup, context impl, DDL mode) go to the file only."""
    return record.levelno >= logging.WARNING or not record.name.startswith("alembic")


# Plain Python tracebacks: structlog's default (rich, with every frame's locals) cost ~1.1-1.3 s of CPU
# per logged exception on the event loop (a database outage logs one every few seconds) and printed locals.
_CONSOLE = structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
_JSON = structlog.processors.JSONRenderer(default=str)
_TIMESTAMP = structlog.processors.TimeStamper(fmt="iso", utc=True, key="time")


def _console_line(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
    event_dict.pop("_record", None)
    event_dict.pop("_from_structlog", None)
    summary = event_dict.get("summary")
    if isinstance(summary, str) and summary:
        return REDACTOR.scrub(summary)
    # Scrubbed once more as rendered: a traceback is formatted after the structlog chain's redactor.
    return REDACTOR.scrub(str(_CONSOLE(logger, method, event_dict)))


def _json_line(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
    record = event_dict.pop("_record", None)
    event_dict.pop("_from_structlog", None)
    if isinstance(record, logging.LogRecord):
        event_dict.setdefault("level", record.levelname.lower())
        event_dict.setdefault("logger", record.name)
    return REDACTOR.scrub(str(_JSON(logger, method, _TIMESTAMP(logger, method, event_dict))))


def _formatter(render: Any, fmt: str, datefmt: str | None = None) -> logging.Formatter:
    """Renders structlog events and plain stdlib records alike (``render`` makes the message)."""
    return structlog.stdlib.ProcessorFormatter(
        processors=[render],
        foreign_pre_chain=[structlog.processors.format_exc_info], fmt=fmt, datefmt=datefmt,
    )


def configure_logging(
    level: str = "INFO", log_dir: Path | None = Path("logs"), secrets: Iterable[str] = (),
    max_bytes: int = 20 * 1024 * 1024, backups: int = 5,
) -> Path | None:
    """Configure stdlib logging + structlog. Returns the log file path (None without a file)."""
    REDACTOR.add(secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG)
    redacting = _RedactingFilter(REDACTOR)

    console = _RedactingStreamHandler(sys.stderr)
    console.setLevel(getattr(logging, level.upper(), logging.INFO))
    console.setFormatter(_formatter(_console_line, "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    console.addFilter(redacting)
    console.addFilter(_quiet_alembic_info)
    root.addHandler(console)

    log_path: Path | None = None
    if log_dir is not None:
        private_dir(log_dir)
        log_path = log_dir / log_file_name()
        file_handler = _PrivateRotatingFileHandler(
            log_path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(_formatter(_json_line, "%(message)s"))
        file_handler.addFilter(redacting)
        root.addHandler(file_handler)

    for noisy in ("uvicorn.access", "httpx", "httpcore", "websockets", "asyncio", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            REDACTOR,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return log_path
