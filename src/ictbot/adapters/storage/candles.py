"""``SqlCandleStore``: idempotent candle upserts and range reads (implements ``ports.CandleStore``).

Writes go through the single writer; one call is one transaction, so a batch that fails (a bad
candle, a constraint, a crash) leaves nothing half-written. The hot paths skip SQLAlchemy's
per-value type processing and hand plain tuples to the driver:

* SQLite: ``INSERT OR REPLACE`` (the candle table has no other index, trigger or child table, so
  replace = upsert, and it is ~2x faster than ``ON CONFLICT DO UPDATE``); decimals as TEXT written
  with ``str(Decimal)`` or, for float frames, ``repr(float)`` — exact for the value given.
* PostgreSQL: ``COPY`` into a temp table then one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` for
  bulk writes; ``INSERT … SELECT FROM unnest(arrays) …`` for small ones. Decimals become NUMERIC.

A candle's key (exchange, market, symbol, timeframe, open_time) is stored as (series_id,
open_time); a series row is created (and committed) the first time a series is written, before its
candles — an empty series row is harmless, and ids cached by the store are always committed ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection

from ictbot.adapters.storage.database import Database
from ictbot.domain.candle import Candle
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.errors import InputDataError
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe

SeriesKey = tuple[str, str, str, str]  # exchange, market, symbol, timeframe
Row = tuple[Any, ...]  # series_id, open_time, open, high, low, close, volume, quote_volume, trades
TextRow = tuple[int, str, str, str, str, str, str, int]  # a row without series_id, decimals as text

_VALUE_COLUMNS = ("open", "high", "low", "close", "volume", "quote_volume", "trades")
_SQLITE_REPLACE = (
    "INSERT OR REPLACE INTO candles (series_id, open_time, open, high, low, close, volume, quote_volume, trades) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PG_UPSERT = (
    "INSERT INTO candles (series_id, open_time, open, high, low, close, volume, quote_volume, trades) "
    "SELECT %s, u.t, u.o, u.h, u.l, u.c, u.v, u.qv, u.n FROM unnest("
    "%s::bigint[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], "
    "%s::numeric[], %s::bigint[]) AS u(t, o, h, l, c, v, qv, n) "
    "ON CONFLICT (series_id, open_time) DO UPDATE SET "
    + ", ".join(f"{col} = excluded.{col}" for col in _VALUE_COLUMNS)
)
_PG_UPSERT_FROM_LOAD = (
    "INSERT INTO candles (series_id, open_time, open, high, low, close, volume, quote_volume, trades) "
    "SELECT series_id, open_time, open, high, low, close, volume, quote_volume, trades FROM candles_load "
    "ON CONFLICT (series_id, open_time) DO UPDATE SET "
    + ", ".join(f"{col} = excluded.{col}" for col in _VALUE_COLUMNS)
)
# A live closed candle and the higher-timeframe candles it closes: written inline when the writer
# is idle (writer.py), so the candle is announced sooner. Bulk writes (backfills, imports) queue.
INLINE_MAX_CANDLES = 16
_PG_CHUNK = 20_000
_PG_COPY_MIN = 500  # below this a single unnest statement is cheaper than COPY + temp table
_SERIES_WHERE = "exchange = {m} AND market = {m} AND symbol = {m} AND timeframe = {m}"


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    exchange: str
    market: str
    symbol: str
    timeframe: Timeframe
    count: int
    first_open_time: int
    last_open_time: int


def _reject(candle: Candle) -> None:
    if not candle.closed:
        raise InputDataError(f"{candle.symbol} {candle.timeframe.value}", "only closed candles are stored")
    problems = candle.problems()
    if problems:
        raise InputDataError(f"{candle.symbol} {candle.timeframe.value} {candle.open_time}", "; ".join(problems))


class _UnknownSeries(Exception):
    def __init__(self, key: SeriesKey) -> None:
        super().__init__(key)
        self.key = key


def _series_rows(candles: Iterable[Candle], ids: Mapping[SeriesKey, int]) -> dict[int, dict[int, Row]]:
    """Validated driver rows ``(series_id, open_time, …)`` per series id, keyed by open time (the
    last duplicate wins).

    Raises ``InputDataError`` before anything is written if one candle is bad, ``_UnknownSeries``
    if a series has no id yet. This runs for every stored candle, so the common case is checked
    inline and the series is compared field by field (no key tuple per candle); ``Candle.problems``
    explains a failure.
    """
    out: dict[int, dict[int, Row]] = {}
    rows: dict[int, Row] = {}
    exchange: str | None = None
    market: Market | None = None
    symbol: str | None = None
    timeframe: Timeframe | None = None
    step = sid = 0
    text = str  # local name: this loop runs once per stored candle
    for c in candles:
        low, high, o, cl, tf = c.low, c.high, c.open, c.close, c.timeframe
        if tf is not timeframe or c.symbol != symbol or c.market is not market or c.exchange != exchange:
            exchange, market, symbol, timeframe = c.exchange, c.market, c.symbol, tf
            step = 0 if tf is Timeframe.W1 else tf.ms  # weeks are Monday-aligned: checked by floor()
            key = (exchange, market.value, symbol, tf.value)
            if key not in ids:
                raise _UnknownSeries(key)
            sid = ids[key]
            rows = out.setdefault(sid, {})
        t = c.open_time
        if not (
            c.closed and low > 0 and low <= o <= high and low <= cl <= high and c.volume >= 0
            and (t % step == 0 if step else tf.floor(t) == t)
        ):
            _reject(c)
        rows[t] = (sid, t, text(o), text(high), text(low), text(cl), text(c.volume), text(c.quote_volume), c.trades)
    return out


def _frame_rows(frame: CandleFrame, sid: int) -> list[Row]:
    return [
        (sid, t, repr(o), repr(h), repr(lo), repr(c), repr(v), "0", 0)
        for t, o, h, lo, c, v in zip(
            frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(), frame.low.tolist(),
            frame.close.tolist(), frame.volume.tolist(), strict=True,
        )
    ]


def _mark(connection: Connection) -> str:
    return "?" if connection.dialect.name == "sqlite" else "%s"


def series_id(connection: Connection, key: SeriesKey) -> int:
    """Id of a series, created if new."""
    where = _SERIES_WHERE.format(m=_mark(connection))
    found = connection.exec_driver_sql(f"SELECT id FROM candle_series WHERE {where}", key).scalar()
    if found is not None:
        return int(found)
    m = _mark(connection)
    connection.exec_driver_sql(
        f"INSERT INTO candle_series (exchange, market, symbol, timeframe) VALUES ({m}, {m}, {m}, {m})", key
    )
    return int(connection.exec_driver_sql(f"SELECT id FROM candle_series WHERE {where}", key).scalar_one())


def write_candle_rows(connection: Connection, rows: Sequence[Row]) -> int:
    """Upsert driver rows ``(series_id, open_time, open, …, trades)`` of ONE series on ``connection``
    (inside the caller's transaction)."""
    if not rows:
        return 0
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(_SQLITE_REPLACE, list(rows))
        return len(rows)
    if len(rows) >= _PG_COPY_MIN:
        return _pg_copy_upsert(connection, rows)
    sid = rows[0][0]
    for start in range(0, len(rows), _PG_CHUNK):
        columns = list(zip(*rows[start : start + _PG_CHUNK], strict=True))
        connection.exec_driver_sql(_PG_UPSERT, (sid, *(list(column) for column in columns[1:])))
    return len(rows)


def _pg_copy_upsert(connection: Connection, rows: Sequence[Row]) -> int:
    """Bulk path: COPY into a transaction-scoped temp table, then one INSERT … ON CONFLICT.

    About twice as fast as ``unnest`` for thousands of rows; it runs on the same psycopg connection,
    inside the caller's transaction, so atomicity is unchanged.
    """
    connection.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS candles_load (LIKE candles INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
        "COPY candles_load (series_id, open_time, open, high, low, close, volume, quote_volume, trades) "
        "FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    connection.exec_driver_sql(_PG_UPSERT_FROM_LOAD)
    connection.exec_driver_sql("DELETE FROM candles_load")  # the next series of this transaction starts empty
    return len(rows)


class SqlCandleStore:
    """Candles of one exchange/market for reads; writes use each candle's own key."""

    def __init__(self, db: Database, *, exchange: str = "binance", market: Market = Market.SPOT) -> None:
        self._db = db
        self.exchange = exchange
        self.market = market
        self._series_ids: dict[SeriesKey, int] = {}  # committed ids only

    @property
    def database(self) -> Database:
        return self._db

    def _key(self, symbol: str, timeframe: Timeframe) -> SeriesKey:
        return (self.exchange, self.market.value, symbol, timeframe.value)

    # ---- writes ------------------------------------------------------------------------------------
    async def series_ids(self, keys: Iterable[SeriesKey]) -> dict[SeriesKey, int]:
        """Ids of the given series, creating missing ones in their own (committed) transaction."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._series_ids]
        if missing:
            created = await self._db.write(lambda c: {key: series_id(c, key) for key in missing})
            self._series_ids.update(created)  # committed: safe to cache
        return self._series_ids

    async def upsert(self, candles: Sequence[Candle]) -> int:
        """Insert or replace closed candles atomically; returns how many distinct candles were written."""
        grouped: dict[int, dict[int, Row]] | None = None
        for _ in range(len(candles) + 1):  # bounded: each pass learns at least one series id
            try:
                grouped = _series_rows(candles, self._series_ids)
                break
            except _UnknownSeries as unknown:
                await self.series_ids([unknown.key])
        if grouped is None:  # pragma: no cover - every pass adds an id, so the loop always breaks
            raise RuntimeError("could not resolve candle series ids")
        if not grouped:
            return 0
        batches = [list(rows.values()) for rows in grouped.values()]
        return await self._db.write(lambda c: sum(write_candle_rows(c, rows) for rows in batches),
                                    inline=len(candles) <= INLINE_MAX_CANDLES)

    async def upsert_frame(self, frame: CandleFrame, symbol: str, timeframe: Timeframe) -> int:
        """Write a validated ``CandleFrame`` (file imports) in one transaction."""
        key = self._key(symbol, timeframe)
        sid = (await self.series_ids([key]))[key]
        rows = _frame_rows(frame, sid)
        return await self._db.write(lambda c: write_candle_rows(c, rows))

    async def upsert_text_rows(self, rows: Sequence[TextRow], symbol: str, timeframe: Timeframe) -> int:
        """Write already-validated rows ``(open_time, open, high, low, close, volume, quote_volume,
        trades)`` whose decimals are the exact strings of the source file, in one transaction."""
        key = self._key(symbol, timeframe)
        sid = (await self.series_ids([key]))[key]
        for row in rows[:1]:  # a cheap guard against a column mix-up; the caller validated the values
            Decimal(row[1])
        full = [(sid, *row) for row in rows]
        return await self._db.write(lambda c: write_candle_rows(c, full))

    # ---- reads -------------------------------------------------------------------------------------
    def _select_sql(
        self, connection: Connection, columns: str, symbol: str, timeframe: Timeframe,
        start_ms: int | None, end_ms: int | None, limit: int | None,
    ) -> tuple[str, tuple[Any, ...]]:
        m = _mark(connection)
        where = f"series_id = (SELECT id FROM candle_series WHERE {_SERIES_WHERE.format(m=m)})"
        params: list[Any] = list(self._key(symbol, timeframe))
        if start_ms is not None:
            where += f" AND open_time >= {m}"
            params.append(start_ms)
        if end_ms is not None:
            where += f" AND open_time < {m}"
            params.append(end_ms)
        if limit is not None and start_ms is None:
            # "The last N candles": newest N, returned oldest first.
            inner = f"SELECT {columns} FROM candles WHERE {where} ORDER BY open_time DESC LIMIT {int(limit)}"
            return f"SELECT * FROM ({inner}) AS recent ORDER BY open_time", tuple(params)
        sql = f"SELECT {columns} FROM candles WHERE {where} ORDER BY open_time"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return sql, tuple(params)

    async def load(
        self, symbol: str, timeframe: Timeframe, start_ms: int | None = None, end_ms: int | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        """Candles with ``start_ms <= open_time < end_ms``, oldest first.

        ``limit`` with a ``start_ms`` pages forward (the first ``limit``); without one it returns the
        latest ``limit`` candles (a rolling window).
        """
        exchange, market = self.exchange, self.market

        def query(c: Connection) -> list[Candle]:
            sql, params = self._select_sql(
                c, "open_time, open, high, low, close, volume, quote_volume, trades",
                symbol, timeframe, start_ms, end_ms, limit,
            )
            dec = Decimal
            return [
                Candle(
                    symbol, timeframe, int(t), dec(o), dec(h), dec(lo), dec(cl), dec(v),
                    True, dec(qv), int(n), exchange, market,
                )
                for t, o, h, lo, cl, v, qv, n in c.exec_driver_sql(sql, params).all()
            ]

        return await self._db.read(query)

    async def load_frame(
        self, symbol: str, timeframe: Timeframe, start_ms: int | None = None, end_ms: int | None = None,
        limit: int | None = None,
    ) -> CandleFrame:
        """Like ``load`` but as float64 numpy columns (backtests, indicator warm-up)."""

        def query(c: Connection) -> CandleFrame:
            sql, params = self._select_sql(
                c, "open_time, open, high, low, close, volume", symbol, timeframe, start_ms, end_ms, limit
            )
            rows = c.exec_driver_sql(sql, params).all()
            if not rows:
                empty = np.empty(0, dtype=np.float64)
                return CandleFrame(np.empty(0, dtype=np.int64), empty, empty, empty, empty, empty, ("db",))
            t, o, h, lo, cl, v = zip(*rows, strict=True)
            floats = [np.array([float(x) for x in col], dtype=np.float64) for col in (o, h, lo, cl, v)]
            return CandleFrame(
                np.array(t, dtype=np.int64), floats[0], floats[1], floats[2], floats[3], floats[4], ("db",)
            )

        return await self._db.read(query)

    async def latest_open_time(self, symbol: str, timeframe: Timeframe) -> int | None:
        return await self._aggregate("MAX(open_time)", symbol, timeframe)

    async def first_open_time(self, symbol: str, timeframe: Timeframe) -> int | None:
        return await self._aggregate("MIN(open_time)", symbol, timeframe)

    async def count(self, symbol: str, timeframe: Timeframe) -> int:
        return await self._aggregate("COUNT(*)", symbol, timeframe) or 0

    async def _aggregate(self, expression: str, symbol: str, timeframe: Timeframe) -> int | None:
        def query(c: Connection) -> int | None:
            sql, params = self._select_sql(c, expression, symbol, timeframe, None, None, None)
            value = c.exec_driver_sql(sql.replace(" ORDER BY open_time", ""), params).scalar()
            return None if value is None else int(value)

        return await self._db.read(query)

    async def series(self) -> list[SeriesInfo]:
        """Every stored (exchange, market, symbol, timeframe) with its count and time span."""

        def query(c: Connection) -> list[SeriesInfo]:
            rows = c.exec_driver_sql(
                "SELECT s.exchange, s.market, s.symbol, s.timeframe, COUNT(*), MIN(c.open_time), MAX(c.open_time) "
                "FROM candle_series s JOIN candles c ON c.series_id = s.id "
                "GROUP BY s.exchange, s.market, s.symbol, s.timeframe "
                "ORDER BY s.exchange, s.market, s.symbol, s.timeframe"
            ).all()
            return [
                SeriesInfo(e, m, s, Timeframe(tf), int(n), int(first), int(last))
                for e, m, s, tf, n, first, last in rows
            ]

        return await self._db.read(query)
