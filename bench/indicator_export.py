"""`ictbot indicators` end to end: the columnar export against the row-by-row exporter it replaced.

Run: .venv/bin/python bench/indicator_export.py [--repeat 3] [--formats parquet,feather,csv,jsonl] [--no-old]
     [--against OTHER_CHECKOUT]

Each measurement is a fresh process timed by ``/usr/bin/time -v`` (wall clock from process start to
exit, so interpreter start, imports, reading the candle files, the data-quality report, loading the
compiled kernels from numba's disk cache, computing and writing are all in it; peak RSS = "Maximum
resident set size"). Same run, same data (the 148,896 real BTCUSDT 5m candles of
shared/data/binance_spot_raw_5m, all files given as --data), warm cache (one untimed run of each
first), best of ``--repeat``:

* new: ``python -m ictbot indicators --data ... --out OUT --format F --quiet`` (kernels → Arrow columns
  → file);
* old: the previous ``ictbot indicators --fast`` path in a subprocess (kernels → one ``Event`` per
  event → ``Event.to_row()`` dicts → ``csv.writer`` / ``json.dumps`` per row; ``old_export`` below,
  with the row writers kept in ``ictbot.cli.indicators``), csv and jsonl (the only formats it had).

Ratios are printed against the old jsonl export (the old default) and, per text format, the old export
of that format. The machine is shared: the load average is printed; compare ratios, not seconds.

``--against /work/main``: A/B instead: per format, the other checkout's ``ictbot indicators`` (its
``src`` on ``PYTHONPATH``, same interpreter and data) and this one's run alternately, ``--repeat``
times each after one untimed run each, so both see the same load; best and median of each, and the
ratios other / this.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ICTBOT_SHARED_DIR", REPO.parent / "shared")) / "data" / "binance_spot_raw_5m"

OLD_EXPORT = r"""
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from ictbot.adapters.files import read_candle_files
from ictbot.candles.quality import assess
from ictbot.cli.indicators import _write_csv, _write_jsonl
from ictbot.indicators import kernels
from ictbot.indicators.params import IndicatorParams
fmt, out, files = sys.argv[2], Path(sys.argv[3]), sys.argv[4:]
frame = read_candle_files(files)
tf = frame.infer_timeframe()
assess(frame.open_time, frame.open, frame.high, frame.low, frame.close, frame.volume, tf)
events = kernels.compute_events(frame.open_time, frame.open, frame.high, frame.low, frame.close, tf,
                                IndicatorParams())
rows = [event.to_row() for event in events]
(_write_csv if fmt == "csv" else _write_jsonl)(out, rows)
"""


def timed(command: list[str], src: Path = REPO / "src") -> tuple[float, float, float]:
    """(wall seconds, CPU seconds (user + system), peak RSS MB) of one process, from ``/usr/bin/time -v``,
    with ``src`` on ``PYTHONPATH``."""
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=False,
                          env=dict(os.environ, PYTHONPATH=str(src)))
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed: {done.stderr[-1500:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert wall is not None and rss is not None, done.stderr[-800:]
    hours, minutes, seconds = wall.groups()
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr))
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), cpu, int(rss.group(1)) / 1024


def new_command(files: list[str], out: Path, fmt: str) -> list[str]:
    return [sys.executable, "-m", "ictbot", "indicators", *[arg for f in files for arg in ("--data", f)],
            "--out", str(out), "--format", fmt, "--quiet"]


def old_command(files: list[str], out: Path, fmt: str) -> list[str]:
    return [sys.executable, "-c", OLD_EXPORT, str(REPO / "src"), fmt, str(out), *files]


def best(command: list[str], repeat: int) -> tuple[float, float, float]:
    """Best wall time, CPU time and peak RSS of ``repeat`` runs after an untimed one (warm numba and page cache)."""
    timed(command)
    runs = [timed(command) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), min(r[2] for r in runs)


def a_b(files: list[str], formats: list[str], other: Path, repeat: int) -> None:
    """This checkout against ``other``, alternating run by run (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="ictbot-export-ab-") as tmp:
        for fmt in formats:
            runs: dict[str, list[tuple[float, float, float]]] = {"other": [], "this": []}
            sources = {"other": other / "src", "this": REPO / "src"}
            commands = {name: new_command(files, Path(tmp) / f"{name}.{fmt}", fmt) for name in runs}
            for name in runs:
                timed(commands[name], sources[name])
            loads = [os.getloadavg()[0]]
            for _ in range(repeat):
                for name in runs:
                    runs[name].append(timed(commands[name], sources[name]))
                loads.append(os.getloadavg()[0])
            stats = {name: [(min(r[k] for r in rs), statistics.median(r[k] for r in rs)) for k in range(3)]
                     for name, rs in runs.items()}
            for name in runs:
                (wall, wall_med), (cpu, cpu_med), (rss, _) = stats[name]
                print(f"{fmt:<8} {name:<5} wall best {wall:5.2f} s median {wall_med:5.2f} s  cpu best {cpu:5.2f} s "
                      f"median {cpu_med:5.2f} s  peak RSS {rss:6.1f} MB", flush=True)
            ratio = [stats["other"][k][0] / stats["this"][k][0] for k in range(3)]
            ratio_med = [stats["other"][k][1] / stats["this"][k][1] for k in range(2)]
            print(f"{fmt:<8} other / this: wall {ratio[0]:.2f}x (median {ratio_med[0]:.2f}x), cpu {ratio[1]:.2f}x "
                  f"(median {ratio_med[1]:.2f}x), peak RSS {ratio[2]:.2f}x; load {min(loads):.1f}-{max(loads):.1f}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="parquet,feather,csv,jsonl")
    parser.add_argument("--no-old", action="store_true", help="skip the old path")
    parser.add_argument("--against", type=Path, help="another checkout: A/B, alternating runs")
    args = parser.parse_args()
    files = [str(p) for p in sorted(DATA.glob("*.csv"))]
    if not files:
        raise SystemExit(f"no candle files in {DATA}")
    print(f"data: {len(files)} files in {DATA}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    if args.against:
        a_b(files, args.formats.split(","), args.against, args.repeat)
        return
    results: dict[str, tuple[float, float, float]] = {}
    runs = [("new", fmt) for fmt in args.formats.split(",")]
    runs += [] if args.no_old else [("old", "jsonl"), ("old", "csv")]
    with tempfile.TemporaryDirectory(prefix="ictbot-export-bench-") as tmp:
        for path, fmt in runs:
            out = Path(tmp) / f"{path}.{fmt}"
            command = new_command(files, out, fmt) if path == "new" else old_command(files, out, fmt)
            wall, cpu, rss = results[f"{path} {fmt}"] = best(command, args.repeat)
            print(f"{path} {fmt:<8} wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak RSS {rss:7.1f} MB  "
                  f"file {out.stat().st_size / 1e6:7.1f} MB  (load {os.getloadavg()[0]:.1f})", flush=True)
    if "old jsonl" in results:
        old_wall, old_cpu, old_rss = results["old jsonl"]
        for name, (wall, cpu, rss) in results.items():
            if name.startswith("new"):
                fmt = name.split()[1]
                same = results.get(f"old {fmt}")
                extra = (f"; vs old {fmt}: {same[0] / wall:.1f}x wall, {same[1] / cpu:.1f}x cpu, "
                         f"{same[2] / rss:.1f}x RSS" if same else "")
                print(f"{name}: vs old jsonl {old_wall / wall:.1f}x faster (wall), {old_cpu / cpu:.1f}x (cpu), "
                      f"{old_rss / rss:.1f}x less peak RSS{extra}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
