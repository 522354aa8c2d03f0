"""SQLAlchemy Core tables. The Alembic migrations in ``migrations/versions`` create exactly these.

Times are integers: milliseconds since the Unix epoch, UTC (like the domain). Decimals use
``ExactDecimal`` (NUMERIC on PostgreSQL, TEXT on SQLite). Small collections (fees per asset, trade
ids, take-profit prices) are JSON text with decimals as strings.
"""

from __future__ import annotations

import sqlalchemy as sa

from ictbot.adapters.storage.types import ExactDecimal, big_id

metadata = sa.MetaData()

# One row per (exchange, market, symbol, timeframe): candles refer to it by a small integer, which
# halves the candle rows and makes the primary key an integer pair (faster inserts and range scans).
candle_series = sa.Table(
    "candle_series",
    metadata,
    sa.Column("id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("exchange", sa.String(32), nullable=False),
    sa.Column("market", sa.String(16), nullable=False),
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("timeframe", sa.String(8), nullable=False),
    sa.UniqueConstraint("exchange", "market", "symbol", "timeframe", name="uq_candle_series_key"),
)

# Unique key (exchange, market, symbol, timeframe, open_time) = (series_id, open_time).
candles = sa.Table(
    "candles",
    metadata,
    sa.Column("series_id", sa.BigInteger(), sa.ForeignKey("candle_series.id", name="fk_candles_series"),
              primary_key=True, autoincrement=False),
    sa.Column("open_time", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("open", ExactDecimal(), nullable=False),
    sa.Column("high", ExactDecimal(), nullable=False),
    sa.Column("low", ExactDecimal(), nullable=False),
    sa.Column("close", ExactDecimal(), nullable=False),
    sa.Column("volume", ExactDecimal(), nullable=False),
    sa.Column("quote_volume", ExactDecimal(), nullable=False),
    sa.Column("trades", sa.BigInteger(), nullable=False),
    # Candles live in their primary-key B-tree on SQLite: a range scan of one series reads one tree.
    sqlite_with_rowid=False,
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("client_order_id", sa.String(64), primary_key=True),
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("quantity", ExactDecimal(), nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("price", ExactDecimal(), nullable=True),
    sa.Column("stop_price", ExactDecimal(), nullable=True),
    sa.Column("time_in_force", sa.String(8), nullable=True),
    sa.Column("market", sa.String(16), nullable=False),
    sa.Column("reduce_only", sa.Boolean(), nullable=False),
    sa.Column("strategy_id", sa.String(128), nullable=False),
    sa.Column("signal_id", sa.String(128), nullable=False),
    sa.Column("leg", sa.String(4), nullable=False),
    sa.Column("position_id", sa.String(128), nullable=False),
    sa.Column("list_id", sa.String(128), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("exchange_order_id", sa.String(64), nullable=True),
    sa.Column("filled_qty", ExactDecimal(), nullable=False),
    sa.Column("filled_quote", ExactDecimal(), nullable=False),
    sa.Column("fees", sa.Text(), nullable=False),
    sa.Column("trade_ids", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Index("ix_orders_status", "status"),
    sa.Index("ix_orders_signal_id", "signal_id"),
    sa.Index("ix_orders_symbol_created", "symbol", "created_at"),
    sa.Index("ix_orders_strategy_id", "strategy_id"),
)

fills = sa.Table(
    "fills",
    metadata,
    sa.Column("id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("trade_id", sa.String(64), nullable=False),
    sa.Column("client_order_id", sa.String(64), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("price", ExactDecimal(), nullable=False),
    sa.Column("qty", ExactDecimal(), nullable=False),
    sa.Column("fee", ExactDecimal(), nullable=False),
    sa.Column("fee_asset", sa.String(16), nullable=False),
    sa.Column("time", sa.BigInteger(), nullable=False),
    sa.Column("is_maker", sa.Boolean(), nullable=False),
    sa.UniqueConstraint("symbol", "trade_id", name="uq_fills_symbol_trade_id"),
    sa.Index("ix_fills_client_order_id", "client_order_id"),
    sa.Index("ix_fills_time", "time"),
)

positions = sa.Table(
    "positions",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("base_asset", sa.String(16), nullable=False),
    sa.Column("quote_asset", sa.String(16), nullable=False),
    sa.Column("market", sa.String(16), nullable=False),
    sa.Column("strategy_id", sa.String(128), nullable=False),
    sa.Column("qty", ExactDecimal(), nullable=False),
    sa.Column("avg_entry", ExactDecimal(), nullable=False),
    sa.Column("realized_pnl", ExactDecimal(), nullable=False),
    sa.Column("fees_quote", ExactDecimal(), nullable=False),
    sa.Column("other_fees", sa.Text(), nullable=False),
    sa.Column("funding", ExactDecimal(), nullable=False),
    sa.Column("trade_ids", sa.Text(), nullable=False),
    sa.Column("opened_at", sa.BigInteger(), nullable=True),
    sa.Column("closed_at", sa.BigInteger(), nullable=True),
    sa.Column("entry_qty_total", ExactDecimal(), nullable=False),
    sa.Column("stop_loss", ExactDecimal(), nullable=True),
    sa.Column("take_profits", sa.Text(), nullable=False),
    # Derived from qty at save time: decimals are TEXT on SQLite, so "qty != 0" cannot be asked in SQL.
    sa.Column("is_open", sa.Boolean(), nullable=False),
    sa.Index("ix_positions_is_open", "is_open"),
    sa.Index("ix_positions_closed_at", "closed_at"),
)

key_values = sa.Table(
    "key_values",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
)

# The exchange's symbol rules, for offline use by the instrument catalogue (``ictbot download
# --exchange-info``): one row per (market, symbol), the latest read. ``rules`` is the catalogue's
# compact record (ictbot.instruments.codec); ``read_at`` is when the exchange was asked.
exchange_info = sa.Table(
    "exchange_info",
    metadata,
    sa.Column("market", sa.String(16), primary_key=True),
    sa.Column("symbol", sa.String(32), primary_key=True),
    sa.Column("rules", sa.Text(), nullable=False),
    sa.Column("read_at", sa.BigInteger(), nullable=False),
    sa.Column("source", sa.String(255), nullable=False),
)
