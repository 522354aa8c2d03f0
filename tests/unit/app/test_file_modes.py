"""Files the bot creates are owner-only (0600) and the directories it creates 0700."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from ictbot.api.auth import load_or_create_tokens
from ictbot.api.settings import ApiSettings
from ictbot.app.config_manager import ConfigManager
from ictbot.app.logsetup import configure_logging


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_config_and_its_history_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "trading_config.json"
    manager = ConfigManager(path)
    manager.load()
    await manager.update_risk_config({"max_open_positions": 2})
    assert _mode(path) == 0o600 and _mode(manager.history_path) == 0o600
    assert _mode(path.parent) == 0o700


def test_log_files_are_owner_only_also_after_rollover(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    try:
        log_path = configure_logging("WARNING", log_dir, max_bytes=200, backups=2)
        assert log_path is not None
        for n in range(20):
            logging.getLogger("filemodes-test").warning("line %d %s", n, "x" * 40)
        files = sorted(log_dir.iterdir())
        assert len(files) == 3  # the current file and two rolled-over ones
        assert {_mode(file) for file in files} == {0o600} and _mode(log_dir) == 0o700
    finally:
        configure_logging("WARNING", None)


def test_generated_token_file_and_its_directory_are_owner_only(tmp_path: Path) -> None:
    token_file = tmp_path / "secret" / "api_token"
    load_or_create_tokens(ApiSettings(token_file=token_file), announce=lambda _: None)
    assert _mode(token_file) == 0o600 and _mode(token_file.parent) == 0o700
