"""A failing log handler (closed stream, full disk) reports the error on stderr with secrets scrubbed.

logging's own ``Handler.handleError`` prints the record's message and arguments as they are: for
a structlog event that is the event dict, whose nested values the redacting processor never saw.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
import structlog

from ictbot.app.logsetup import configure_logging

SECRET = "live-secret-2f9c41d7"


def _break(handler: logging.Handler) -> None:
    assert isinstance(handler, logging.StreamHandler)
    closed = io.StringIO()
    closed.close()
    previous = handler.setStream(closed)  # as when the process's stderr or the log file went away
    if isinstance(handler, logging.FileHandler) and previous is not None:
        previous.close()  # the real file, which this test no longer writes to


@pytest.mark.parametrize("which", ["console", "file"])
def test_a_broken_handler_reports_its_error_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     which: str) -> None:
    configure_logging("INFO", tmp_path, secrets=[SECRET])
    handlers = logging.getLogger().handlers
    console, file_handler = handlers[0], handlers[1]
    _break(console if which == "console" else file_handler)
    capsys.readouterr()

    structlog.get_logger("ictbot.test").warning("order request failed",
                                                request={"headers": {"X-MBX-APIKEY": SECRET}, "api_key": SECRET})
    logging.getLogger("ictbot.plain").warning("signed with %s", {"nested": [SECRET]})

    err = capsys.readouterr().err
    assert err.count("--- Logging error ---") == 2  # the failure is still reported, once per record
    assert "I/O operation on closed file" in err and "order request failed" in err
    assert SECRET not in err
    assert "***" in err
