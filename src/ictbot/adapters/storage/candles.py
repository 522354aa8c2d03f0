"""``SqlCandleStore``: idempotent candle upserts and range reads (implements ``ports.CandleStore``).

Writes go through the single writer; one call is one transaction, so a batch that fails (a bad
candle, a constraint, a crash) leaves nothing half-written. The hot paths skip the ORM-level type
machinery and hand plain tuples to the driver: TEXT decimals on SQLite (``str(Decimal)`` or
``repr(float)`` — both exact for the value given), ``unnest`` arrays cast to NUMERIC on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection

from ictbot.adapters.files import CandleFrame
from ictbot.adapters.storage.database import Database
from ictbot.domain.candle import Candle
from ictbot.domain.errors import InputDataError
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe

_COLUMNS = (
    "exchange", "market", "symbol", "timeframe", "open_time",
    "open", "high", "low", "close", "volume", "quote_volume", "trades",
)
_VALUE_COLUMNS = ("open", "high", "low", "close", "volume", "quote_volume", "trades")
_KEY = "exchange, market, symbol, timeframe, open_time"
_UPDATE = ", ".join(f"{col} = excluded.{col}" for col in _VALUE_COLUMNS)

_SQLITE_UPSERT = (
    f"INSERT INTO candles ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    f"ON CONFLICT ({_KEY}) DO UPDATE SET {_UPDATE}"
)
_PG_UPSERT = (
    f"INSERT INTO candles ({', '.join(_COLUMNS)}) "
    "SELECT %s, %s, %s, u.tf, u.t, u.o, u.h, u.l, u.c, u.v, u.qv, u.n FROM unnest("
    "%s::text[], %s::bigint[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], "
    "%s::numeric[], %s::bigint[]) AS u(tf, t, o, h, l, c, v, qv, n) "
    f"ON CONFLICT ({_KEY}) DO UPDATE SET {_UPDATE}"
)
_PG_CHUNK = 20_000

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    exchange: str
    market: str
    symbol: str
    timeframe: Timeframe
    count: int
    first_open_time: int
    last_open_time: int


def _candle_row(candle: Candle) -> Row:
    return (
        candle.exchange, candle.market.value, candle.symbol, candle.timeframe.value, candle.open_time,
        str(candle.open), str(candle.high), str(candle.low), str(candle.close), str(candle.volume),
        str(candle.quote_volume), candle.trades,
    )


def _validated_rows(candles: Sequence[Candle]) -> list[Row]:
    """Rows keyed by candle key (last one wins); raises before anything is written if one is bad."""
    rows: dict[tuple[str, str, str, str, int], Row] = {}
    for candle in candles:
        if not candle.closed:
            where = f"{candle.symbol} {candle.timeframe.value}"
            raise InputDataError(where, "only closed candles are stored")
        problems = candle.problems()
        if problems:
            raise InputDataError(
                f"{candle.symbol} {candle.timeframe.value} {candle.open_time}", "; ".join(problems)
            )
        rows[candle.key] = _candle_row(candle)
    return list(rows.values())


def _frame_rows(
    frame: CandleFrame, symbol: str, timeframe: Timeframe, exchange: str, market: Market
) -> list[Row]:
    tf, mk = timeframe.value, market.value
    return [
        (exchange, mk, symbol, tf, t, repr(o), repr(h), repr(lo), repr(c), repr(v), "0", 0)
        for t, o, h, lo, c, v in zip(
            frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(), frame.low.tolist(),
            frame.close.tolist(), frame.volume.tolist(), strict=True,
        )
    ]


def write_candle_rows(connection: Connection, rows: Sequence[Row]) -> int:
    """Upsert already-validated rows on ``connection`` (inside the caller's transaction)."""
    if not rows:
        return 0
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(_SQLITE_UPSERT, list(rows))
        return len(rows)
    # One statement per (exchange, market, symbol) group and chunk: unnest turns arrays into rows.
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row[0], row[1], row[2]), []).append(row)
    for (exchange, market, symbol), group in groups.items():
        for start in range(0, len(group), _PG_CHUNK):
            chunk = group[start : start + _PG_CHUNK]
            columns = list(zip(*chunk, strict=True))
            connection.exec_driver_sql(
                _PG_UPSERT, (exchange, market, symbol, *(list(columns[i]) for i in range(3, 12)))
            )
    return len(rows)


class SqlCandleStore:
    """Candles of one exchange/market for reads; writes use each candle's own key."""

    def __init__(self, db: Database, *, exchange: str = "binance", market: Market = Market.SPOT) -> None:
        self._db = db
        self.exchange = exchange
        self.market = market

    @property
    def database(self) -> Database:
        return self._db

    # ---- writes ------------------------------------------------------------------------------------
    async def upsert(self, candles: Sequence[Candle]) -> int:
        """Insert or replace closed candles atomically; returns how many distinct candles were written."""
        rows = _validated_rows(candles)
        if not rows:
            return 0
        return await self._db.write(lambda c: write_candle_rows(c, rows))

    async def upsert_frame(self, frame: CandleFrame, symbol: str, timeframe: Timeframe) -> int:
        """Write a validated ``CandleFrame`` (file imports) in one transaction."""
        rows = _frame_rows(frame, symbol, timeframe, self.exchange, self.market)
        return await self._db.write(lambda c: write_candle_rows(c, rows))

    # ---- reads -------------------------------------------------------------------------------------
    def _where(self, connection: Connection) -> tuple[str, str]:
        mark = "?" if connection.dialect.name == "sqlite" else "%s"
        return mark, f"exchange = {mark} AND market = {mark} AND symbol = {mark} AND timeframe = {mark}"

    def _select_sql(
        self, connection: Connection, columns: str, symbol: str, timeframe: Timeframe,
        start_ms: int | None, end_ms: int | None, limit: int | None,
    ) -> tuple[str, tuple[Any, ...]]:
        mark, where = self._where(connection)
        params: list[Any] = [self.exchange, self.market.value, symbol, timeframe.value]
        if start_ms is not None:
            where += f" AND open_time >= {mark}"
            params.append(start_ms)
        if end_ms is not None:
            where += f" AND open_time < {mark}"
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
            rows = c.exec_driver_sql(sql, params).all()
            dec = Decimal
            return [
                Candle(
                    symbol, timeframe, int(t), dec(o), dec(h), dec(lo), dec(cl), dec(v),
                    True, dec(qv), int(n), exchange, market,
                )
                for t, o, h, lo, cl, v, qv, n in rows
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
            _, where = self._where(c)
            value = c.exec_driver_sql(
                f"SELECT {expression} FROM candles WHERE {where}",
                (self.exchange, self.market.value, symbol, timeframe.value),
            ).scalar()
            return None if value is None else int(value)

        return await self._db.read(query)

    async def series(self) -> list[SeriesInfo]:
        """Every stored (exchange, market, symbol, timeframe) with its count and time span."""

        def query(c: Connection) -> list[SeriesInfo]:
            rows = c.exec_driver_sql(
                "SELECT exchange, market, symbol, timeframe, COUNT(*), MIN(open_time), MAX(open_time) "
                "FROM candles GROUP BY exchange, market, symbol, timeframe "
                "ORDER BY exchange, market, symbol, timeframe"
            ).all()
            return [
                SeriesInfo(e, m, s, Timeframe(tf), int(n), int(first), int(last))
                for e, m, s, tf, n, first, last in rows
            ]

        return await self._db.read(query)
