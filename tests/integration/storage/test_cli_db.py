from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ictbot.adapters.storage import sqlite_url
from ictbot.cli.main import app


def test_db_upgrade_current_downgrade(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "cli.db")
    runner = CliRunner()
    fresh = runner.invoke(app, ["db", "current", "--database-url", url])
    assert fresh.exit_code == 0 and "(none)" in fresh.output and "needs" in fresh.output
    up = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert up.exit_code == 0 and "revision 0003" in up.output
    now = runner.invoke(app, ["db", "current", "--database-url", url])
    assert "up to date" in now.output
    listed = runner.invoke(app, ["db", "candles", "--database-url", url])
    assert listed.exit_code == 0 and "symbol" in listed.output
    refused = runner.invoke(app, ["db", "downgrade", "base", "--database-url", url], input="n\n")
    assert refused.exit_code != 0
    down = runner.invoke(app, ["db", "downgrade", "base", "--yes", "--database-url", url])
    assert down.exit_code == 0 and "(none)" in down.output
