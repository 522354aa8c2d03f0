"""Import benchmark: the 17 raw Binance BTCUSDT 5m dump files (148,896 candles) into SQLite.

Run: ``.venv/bin/python bench/import_files.py``. Each method runs in its own fresh subprocess
(so peak RSS is its own) into a fresh database file:

* ours: ``ictbot.adapters.files.importer.import_files`` — pyarrow parse, full validation, exact decimal
  text, one transaction per file (what ``ictbot download --from-file`` runs);
* baseline: a plain script — ``csv`` module + ``sqlite3.executemany`` of the raw strings into the
  same schema, one transaction per file, no validation, µs→ms fix only.

Prints wall time, candles/s, peak RSS and the ratio.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

RAW = "binance_spot_raw_5m"


def _files() -> list[Path]:
    from tests.conftest import DATA

    return sorted((DATA / RAW).glob("BTCUSDT-5m-*.csv"))


def run_ours(db_path: str) -> int:
    import asyncio

    from ictbot.adapters.files.importer import import_files
    from ictbot.adapters.storage import Database, SqlCandleStore, sqlite_url
    from ictbot.domain.timeframe import Timeframe

    async def go() -> int:
        db = Database(sqlite_url(db_path))
        db.upgrade()
        try:
            reports = await import_files(lambda market: SqlCandleStore(db, market=market), _files())
            assert all(r.ok for r in reports), [r.error for r in reports if not r.ok]
            return await SqlCandleStore(db).count("BTCUSDT", Timeframe.M5)
        finally:
            await db.close()

    return asyncio.run(go())


def run_baseline(db_path: str) -> int:
    import csv
    import sqlite3

    from ictbot.adapters.storage import Database, sqlite_url
    from ictbot.adapters.storage.candles import _SQLITE_REPLACE, series_id

    schema = Database(sqlite_url(db_path))
    schema.upgrade()  # same tables; not timed separately (both methods pay it)
    with schema.engine.begin() as conn:
        sid = series_id(conn, ("binance", "spot", "BTCUSDT", "5m"))
    schema.close_sync()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for file in _files():
        with file.open(newline="") as handle:
            rows = []
            for r in csv.reader(handle):
                t = int(r[0])
                rows.append((sid, t // 1000 if t >= 10**14 else t, r[1], r[2], r[3], r[4], r[5], r[7], int(r[8])))
        with conn:
            conn.executemany(_SQLITE_REPLACE, rows)
    count = int(conn.execute("SELECT COUNT(*) FROM candles").fetchone()[0])
    conn.close()
    return count


def child(method: str, db_path: str) -> None:
    start = time.perf_counter()
    count = {"ours": run_ours, "baseline": run_baseline}[method](db_path)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"count": count, "seconds": elapsed, "peak_mib": peak_kib / 1024}))


def main() -> None:
    files = _files()
    assert len(files) == 17, f"expected the 17 monthly files, found {len(files)}"
    print(f"import bench: {len(files)} files, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in ("baseline", "ours"):
            db_path = str(Path(tmp) / f"{method}.db")
            start = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--child", method, db_path],
                                 check=True, capture_output=True, text=True)
            wall = time.perf_counter() - start
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["wall"] = wall
            results[method] = result
            assert result["count"] == 148_896, result
    base = results["baseline"]
    for method, label in (("baseline", "csv + sqlite3.executemany (baseline)"),
                          ("ours", "ictbot import_files (validated, exact)")):
        r = results[method]
        print(f"  {label:40s} {r['seconds']:6.2f} s in-process ({r['wall']:5.2f} s incl. interpreter start) "
              f"{148_896 / r['seconds']:>9,.0f} candles/s  peak RSS {r['peak_mib']:6.1f} MiB  "
              f"x{base['seconds'] / r['seconds']:.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
