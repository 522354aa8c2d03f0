from __future__ import annotations

import shutil
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ictbot.adapters.files.importer import import_files
from ictbot.adapters.storage import Database, SqlCandleStore, sqlite_url
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

RAW = DATA / "binance_spot_raw_5m"
M5 = Timeframe.M5


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(sqlite_url(tmp_path / "import.db"))
    database.upgrade()
    yield database
    await database.close()


def stores(db: Database):  # type: ignore[no-untyped-def]
    return lambda market: SqlCandleStore(db, market=market)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


async def test_bad_rows_are_reported_and_nothing_of_that_file_is_stored(db: Database, tmp_path: Path) -> None:
    source = _lines(require_shared(RAW / "BTCUSDT-5m-2024-01.csv"))
    good = tmp_path / "BTCUSDT-5m-2024-01.csv"
    good.write_text("\n".join(source[:100]) + "\n")
    cases = {}
    negative = source[:50]
    fields = negative[41].split(",")
    fields[3] = "-1"  # low
    negative[41] = ",".join(fields)
    cases["BTCUSDT-5m-2023-01.csv"] = (negative, 42, "non-positive price")
    inverted = source[:50]
    fields = inverted[9].split(",")
    fields[2], fields[3] = fields[3], fields[2]  # high < low
    inverted[9] = ",".join(fields)
    cases["BTCUSDT-5m-2023-02.csv"] = (inverted, 10, "high")
    duplicate = source[:50]
    fields = duplicate[20].split(",")
    fields[4] = str(float(fields[4]) + 1)
    duplicate.insert(21, ",".join(fields))  # same open time, another close
    cases["BTCUSDT-5m-2023-03.csv"] = (duplicate, 22, "duplicate open time with different values")
    cut = source[:50]
    cut[30] = ",".join(cut[30].split(",")[:9])  # 9 of the dump's 12 columns
    cases["BTCUSDT-5m-2023-04.csv"] = (cut, 31, "9 columns, expected 12 as on line 1")
    paths = [good]
    for name, (lines, _, _) in cases.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        paths.append(tmp_path / name)

    reports = await import_files(stores(db), paths)
    zipped = tmp_path / "BTCUSDT-5m-2023-05.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("BTCUSDT-5m-2023-05.csv", "\n".join(cut) + "\n")
    (zipped_report,) = await import_files(stores(db), [zipped])
    assert f"{zipped}!BTCUSDT-5m-2023-05.csv:31: 9 columns" in (zipped_report.error or "")
    assert [r.ok for r in reports] == [True, False, False, False, False]
    for report, (name, (_, line, reason)) in zip(reports[1:], cases.items(), strict=True):
        assert f"{name}:{line}: " in (report.error or ""), report.error
        assert reason in (report.error or "")
    high, low = inverted[9].split(",")[2:4]
    assert f"high {float(high)} < low {float(low)}" in (reports[2].error or "")  # plain numbers, no np.float64
    assert await SqlCandleStore(db).count("BTCUSDT", M5) == 100  # only the good file


async def test_microsecond_dumps_zip_feather_and_explicit_names(db: Database, tmp_path: Path) -> None:
    micro = require_shared(RAW / "BTCUSDT-5m-2025-01.csv")
    assert len(micro.read_text().split(",", 1)[0]) == 16  # this file really uses µs
    archive = tmp_path / "BTCUSDT-5m-2025-01.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(micro, micro.name)
    renamed = tmp_path / "anything.csv"
    shutil.copy(RAW / "BTCUSDT-5m-2025-02.csv", renamed)
    feather = DATA / "feather" / "harthor_marketlab" / "ETH_USDT-1d.feather"
    reports = await import_files(stores(db), [archive, feather, renamed])
    assert [r.ok for r in reports] == [True, True, False]
    assert "cannot tell symbol" in (reports[2].error or "")
    store = SqlCandleStore(db)
    first = await store.load("BTCUSDT", M5, limit=1, start_ms=0)
    assert first[0].open_time == 1_735_689_600_000  # 2025-01-01 00:00 in ms, not µs
    assert await store.count("ETHUSDT", Timeframe.D1) == 486
    explicit = await import_files(stores(db), [renamed], symbol="btc/usdt", timeframe=M5, market=Market.SPOT)
    assert explicit[0].ok and await store.count("BTCUSDT", M5) == 8928 + 8064


async def test_named_timeframe_must_match_the_spacing(db: Database, tmp_path: Path) -> None:
    wrong = tmp_path / "BTCUSDT-1h-2024-01.csv"
    shutil.copy(require_shared(RAW / "BTCUSDT-5m-2024-01.csv"), wrong)
    (report,) = await import_files(stores(db), [wrong])
    assert not report.ok and "5m apart, not 1h" in (report.error or "")


async def test_import_of_the_full_5m_set(db: Database) -> None:
    files = sorted(require_shared(RAW).glob("BTCUSDT-5m-*.csv"))
    assert len(files) == 17
    reports = await import_files(stores(db), files)
    assert all(r.ok for r in reports) and sum(r.rows for r in reports) == 148_896
    store = SqlCandleStore(db)
    assert await store.count("BTCUSDT", M5) == 148_896
    assert await store.first_open_time("BTCUSDT", M5) == 1_696_118_400_000  # 2023-10-01 00:00
    assert await store.latest_open_time("BTCUSDT", M5) == 1_740_786_900_000  # 2025-02-28 23:55
    (first,) = await store.load("BTCUSDT", M5, start_ms=0, limit=1)
    (last,) = await store.load("BTCUSDT", M5, limit=1)
    first_row = (RAW / "BTCUSDT-5m-2023-10.csv").read_text().splitlines()[0].split(",")
    last_row = (RAW / "BTCUSDT-5m-2025-02.csv").read_text().splitlines()[-1].split(",")
    for candle, row in ((first, first_row), (last, last_row)):
        # Binance's own digits, quote volume and trade count survive the import unchanged.
        assert [str(candle.open), str(candle.high), str(candle.low), str(candle.close), str(candle.volume)] == row[1:6]
        assert str(candle.quote_volume) == row[7] and candle.trades == int(row[8])
    # The µs → ms switch at 2025-01-01 left no gap and no overlap.
    switch = 1_735_689_600_000
    around = await store.load("BTCUSDT", M5, start_ms=switch - 2 * M5.ms, end_ms=switch + 2 * M5.ms)
    assert [c.open_time for c in around] == [switch + k * M5.ms for k in (-2, -1, 0, 1)]
