"""Read candle files into numpy arrays, validating every row.

Formats (detected per file):

* Binance public dump CSV (data.binance.vision): no header, 12 columns; open times in
  milliseconds (13 digits) or, for 2025+ spot dumps, microseconds (16 digits) — detected per row.
* freqtrade feather: ``date`` (timestamp, UTC), ``open high low close volume``.
* Any CSV with a header naming a time column (``open_time``/``unix``/``timestamp``/``date``) and
  ``open high low close volume`` — including the project's own export (``write_candle_csv``).

A bad row (non-positive price, high < low, open/close outside the range, unparsable value,
duplicate open time with different values, time going backwards) raises ``InputDataError`` naming
the file and the 1-based line; nothing from that file is returned.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.errors import InputDataError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_TIME_COLUMNS = ("open_time", "unix", "timestamp", "time", "date", "datetime", "open time")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y.%m.%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def read_candle_files(paths: Iterable[str | Path]) -> CandleFrame:
    """Read several files and concatenate them in time order (each file validated on its own)."""
    frames = sorted((read_candle_file(path) for path in paths), key=lambda f: int(f.open_time[0]) if len(f) else 0)
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        raise InputDataError("<no files>", "no candles in the given files")
    merged = CandleFrame(
        np.concatenate([f.open_time for f in frames]),
        np.concatenate([f.open for f in frames]),
        np.concatenate([f.high for f in frames]),
        np.concatenate([f.low for f in frames]),
        np.concatenate([f.close for f in frames]),
        np.concatenate([f.volume for f in frames]),
        tuple(s for f in frames for s in f.sources),
    )
    bad = np.nonzero(np.diff(merged.open_time) <= 0)[0]
    if bad.size:
        moment = datetime.fromtimestamp(int(merged.open_time[bad[0] + 1]) / 1000, tz=UTC).isoformat()
        raise InputDataError(", ".join(merged.sources), f"files overlap: open time {moment} repeats or goes back")
    return merged


def read_candle_file(path: str | Path) -> CandleFrame:
    file = Path(path)
    if not file.exists():
        raise InputDataError(str(file), "file not found")
    if file.suffix.lower() in (".feather", ".arrow", ".ipc"):
        return _read_feather(file)
    return _read_csv(file)


def write_candle_csv(frame: CandleFrame, path: str | Path) -> None:
    """The project's own format: header ``open_time,open,high,low,close,volume``, ms times."""
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["open_time", "open", "high", "low", "close", "volume"])
        for row in zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(), frame.low.tolist(),
                       frame.close.tolist(), frame.volume.tolist(), strict=True):
            writer.writerow([row[0], *(repr(value) for value in row[1:])])


# ---- readers ------------------------------------------------------------------------------------


def _read_feather(file: Path) -> CandleFrame:
    import pyarrow.feather as feather

    try:
        table = feather.read_table(str(file))
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        raise InputDataError(str(file), f"not a readable feather file ({exc})") from exc
    names = {name.lower(): name for name in table.column_names}
    missing = [col for col in ("date", "open", "high", "low", "close", "volume") if col not in names]
    if missing:
        raise InputDataError(str(file), f"feather file lacks column(s) {', '.join(missing)}")
    dates = table.column(names["date"]).cast("int64").to_numpy()
    unit = str(table.schema.field(names["date"]).type)
    divisor = {"ns": 1_000_000, "us": 1_000, "ms": 1, "s": 1}
    scale = next((d for key, d in divisor.items() if f"[{key}" in unit), 1_000_000)
    open_time = (dates // scale if "[s" not in unit else dates * 1000).astype(np.int64)
    columns = [np.ascontiguousarray(table.column(names[c]).to_numpy(), dtype=np.float64)
               for c in ("open", "high", "low", "close", "volume")]
    return _validated(str(file), open_time, *columns, first_line=1)


def _read_csv(file: Path) -> CandleFrame:
    with file.open("r", newline="") as handle:
        first = handle.readline()
    if not first.strip():
        raise InputDataError(str(file), "empty file", line=1)
    has_header = any(ch.isalpha() for ch in first.split(",")[0])
    if not has_header:
        return _read_binance_dump(file)
    return _read_headed_csv(file)


def _read_binance_dump(file: Path) -> CandleFrame:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(
            str(file),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            convert_options=pacsv.ConvertOptions(
                column_types={"f0": pa.int64(), "f1": pa.float64(), "f2": pa.float64(), "f3": pa.float64(),
                              "f4": pa.float64(), "f5": pa.float64()},
                include_columns=["f0", "f1", "f2", "f3", "f4", "f5"],
            ),
        )
    except Exception:
        return _read_rows_slowly(file, header=False)
    raw_time = table.column("f0").to_numpy()
    open_time = np.where(raw_time >= 10**14, raw_time // 1000, raw_time).astype(np.int64)
    cols = [np.ascontiguousarray(table.column(f"f{i}").to_numpy(), dtype=np.float64) for i in range(1, 6)]
    return _validated(str(file), open_time, *cols, first_line=1)


def _read_headed_csv(file: Path) -> CandleFrame:
    return _read_rows_slowly(file, header=True)


def _read_rows_slowly(file: Path, *, header: bool) -> CandleFrame:
    """Row-by-row parser used for headed CSVs and for dumps pyarrow cannot parse (to find the bad line)."""
    times: list[int] = []
    values: list[tuple[float, float, float, float, float]] = []
    with file.open("r", newline="") as handle:
        reader = csv.reader(handle)
        if header:
            head = [name.strip().lower() for name in next(reader)]
            index = _header_index(str(file), head)
        else:
            index = {"time": 0, "open": 1, "high": 2, "low": 3, "close": 4, "volume": 5}
        first_line = 2 if header else 1
        for offset, row in enumerate(reader):
            line = first_line + offset
            if not row or not "".join(row).strip():
                continue
            try:
                times.append(_parse_time(row[index["time"]]))
                values.append(tuple(_parse_float(row[index[c]]) for c in ("open", "high", "low", "close", "volume")))  # type: ignore[arg-type]
            except (ValueError, IndexError) as exc:
                raise InputDataError(str(file), f"unparsable row ({exc})", line=line) from exc
    if not times:
        raise InputDataError(str(file), "no candle rows")
    arr = np.array(values, dtype=np.float64)
    return _validated(str(file), np.array(times, dtype=np.int64), *(arr[:, k].copy() for k in range(5)),
                      first_line=first_line)


def _header_index(source: str, head: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for name in _TIME_COLUMNS:
        if name in head:
            index["time"] = head.index(name)
            break
    for col in ("open", "high", "low", "close"):
        if col in head:
            index[col] = head.index(col)
    volume = next((i for i, name in enumerate(head) if name == "volume"), None)
    if volume is None:
        volume = next((i for i, name in enumerate(head) if name.startswith("volume")), None)
    if volume is not None:
        index["volume"] = volume
    missing = [c for c in ("time", "open", "high", "low", "close", "volume") if c not in index]
    if missing:
        raise InputDataError(source, f"header lacks column(s) {', '.join(missing)}", line=1)
    return index


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"non-finite number {text!r}")
    return value


def _parse_time(text: str) -> int:
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                return int(datetime.strptime(text.rstrip("Z"), fmt).replace(tzinfo=UTC).timestamp() * 1000)
            except ValueError:
                continue
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"unrecognised time {text!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    if number >= 1e14:
        return int(number) // 1000  # microseconds
    if number >= 1e11:
        return int(number)  # milliseconds
    return round(number * 1000)  # seconds


def _validated(source: str, t: I64, o: F64, h: F64, lo: F64, c: F64, v: F64, *, first_line: int) -> CandleFrame:
    def fail(index: int, reason: str) -> None:
        raise InputDataError(source, reason, line=first_line + int(index))

    for name, column in (("open", o), ("high", h), ("low", lo), ("close", c), ("volume", v)):
        bad = np.nonzero(~np.isfinite(column))[0]
        if bad.size:
            fail(bad[0], f"{name} is not a finite number")
    bad = np.nonzero((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0))[0]
    if bad.size:
        fail(bad[0], "non-positive price")
    bad = np.nonzero(h < lo)[0]
    if bad.size:
        fail(bad[0], f"high {float(h[bad[0]])} < low {float(lo[bad[0]])}")  # plain numbers, not np.float64(...)
    bad = np.nonzero((o > h) | (o < lo) | (c > h) | (c < lo))[0]
    if bad.size:
        fail(bad[0], "open or close outside [low, high]")
    bad = np.nonzero(v < 0)[0]
    if bad.size:
        fail(bad[0], "negative volume")
    if t.size > 1:
        steps = np.diff(t)
        dup = np.nonzero(steps == 0)[0]
        if dup.size:
            k = int(dup[0])
            same = (o[k], h[k], lo[k], c[k], v[k]) == (o[k + 1], h[k + 1], lo[k + 1], c[k + 1], v[k + 1])
            reason = "duplicate open time" + ("" if same else " with different values")
            fail(k + 1, reason)
        back = np.nonzero(steps < 0)[0]
        if back.size:
            fail(int(back[0]) + 1, "open time goes backwards (rows must be oldest first)")
    return CandleFrame(t, o, h, lo, c, v, (source,))
