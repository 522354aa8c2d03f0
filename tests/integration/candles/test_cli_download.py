from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from ictbot.adapters.storage import Database, SqlCandleStore, sqlite_url
from ictbot.cli.main import app
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared
from tests.integration.candles.klines_server import KlineData, make_rows, serve_klines

START = 1_704_067_200_000  # 2024-01-01


def _count(url: str, symbol: str, tf: Timeframe) -> int:
    async def count() -> int:
        db = Database(url)
        try:
            return await SqlCandleStore(db).count(symbol, tf)
        finally:
            await db.close()

    return asyncio.run(count())


def test_download_command_pages_and_resumes(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "cli.db")
    data = KlineData(Timeframe.H1.ms, make_rows(START, 1100, Timeframe.H1.ms))
    args = [
        "download",
        "--symbol",
        "btcusdt",
        "--timeframe",
        "1h",
        "--start",
        "2024-01-01",
        "--end",
        "2024-02-01",
        "--database-url",
        url,
    ]
    with serve_klines(data) as port:
        first = CliRunner().invoke(app, [*args, "--base-url", f"http://127.0.0.1:{port}"])
        assert first.exit_code == 0, first.output
        assert "stored 744 BTCUSDT 1h candles" in first.output
        again = CliRunner().invoke(app, [*args, "--base-url", f"http://127.0.0.1:{port}"])
    assert again.exit_code == 0, again.output
    assert "stored 0" in again.output and "resumed" in again.output
    assert _count(url, "BTCUSDT", Timeframe.H1) == 31 * 24


def test_download_argument_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["download", "--symbol", "BTCUSDT", "--timeframe", "7m", "--start", "2024-01-01"])
    assert result.exit_code == 2 and "unknown timeframe" in result.output
    result = CliRunner().invoke(app, ["download", "--symbol", "BTCUSDT", "--timeframe", "1h"])
    assert result.exit_code == 2 and "--start" in result.output


def test_import_command_reports_per_file(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "files.db")
    good = require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-02.csv")
    bad = tmp_path / "BTCUSDT-5m-2020-01.csv"
    lines = good.read_text().splitlines()[:10]
    lines[4] = lines[4].replace(lines[4].split(",")[1], "0", 1)
    bad.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["download", "--database-url", url, "--from-file", str(good), str(bad)])
    assert result.exit_code == 1
    assert "1 file(s) imported, 1 rejected" in result.output
    assert f"{bad}:5" in result.output.replace("\n", "")
    assert _count(url, "BTCUSDT", Timeframe.M5) == 8352
