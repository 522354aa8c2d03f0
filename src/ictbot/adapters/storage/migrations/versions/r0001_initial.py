"""Initial schema: candle series and candles, orders, fills, positions, key/values, config versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _decimal() -> sa.types.TypeEngine[Any]:
    # Exact on both: NUMERIC on PostgreSQL, TEXT on SQLite (NUMERIC affinity there would mean floats).
    return sa.Numeric().with_variant(sa.Text(), "sqlite")


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "candle_series",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("market", sa.String(16), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_candle_series"),
        sa.UniqueConstraint("exchange", "market", "symbol", "timeframe", name="uq_candle_series_key"),
    )
    op.create_table(
        "candles",
        sa.Column("series_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("open_time", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("open", _decimal(), nullable=False),
        sa.Column("high", _decimal(), nullable=False),
        sa.Column("low", _decimal(), nullable=False),
        sa.Column("close", _decimal(), nullable=False),
        sa.Column("volume", _decimal(), nullable=False),
        sa.Column("quote_volume", _decimal(), nullable=False),
        sa.Column("trades", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["series_id"], ["candle_series.id"], name="fk_candles_series"),
        sa.PrimaryKeyConstraint("series_id", "open_time", name="pk_candles"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "orders",
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("quantity", _decimal(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("price", _decimal(), nullable=True),
        sa.Column("stop_price", _decimal(), nullable=True),
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
        sa.Column("filled_qty", _decimal(), nullable=False),
        sa.Column("filled_quote", _decimal(), nullable=False),
        sa.Column("fees", sa.Text(), nullable=False),
        sa.Column("trade_ids", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("client_order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_signal_id", "orders", ["signal_id"])
    op.create_index("ix_orders_symbol_created", "orders", ["symbol", "created_at"])
    op.create_index("ix_orders_strategy_id", "orders", ["strategy_id"])

    op.create_table(
        "fills",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("trade_id", sa.String(64), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("price", _decimal(), nullable=False),
        sa.Column("qty", _decimal(), nullable=False),
        sa.Column("fee", _decimal(), nullable=False),
        sa.Column("fee_asset", sa.String(16), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("is_maker", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint("symbol", "trade_id", name="uq_fills_symbol_trade_id"),
    )
    op.create_index("ix_fills_client_order_id", "fills", ["client_order_id"])
    op.create_index("ix_fills_time", "fills", ["time"])

    op.create_table(
        "positions",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("base_asset", sa.String(16), nullable=False),
        sa.Column("quote_asset", sa.String(16), nullable=False),
        sa.Column("market", sa.String(16), nullable=False),
        sa.Column("strategy_id", sa.String(128), nullable=False),
        sa.Column("qty", _decimal(), nullable=False),
        sa.Column("avg_entry", _decimal(), nullable=False),
        sa.Column("realized_pnl", _decimal(), nullable=False),
        sa.Column("fees_quote", _decimal(), nullable=False),
        sa.Column("other_fees", sa.Text(), nullable=False),
        sa.Column("funding", _decimal(), nullable=False),
        sa.Column("trade_ids", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("entry_qty_total", _decimal(), nullable=False),
        sa.Column("stop_loss", _decimal(), nullable=True),
        sa.Column("take_profits", sa.Text(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_positions"),
    )
    op.create_index("ix_positions_is_open", "positions", ["is_open"])
    op.create_index("ix_positions_closed_at", "positions", ["closed_at"])

    op.create_table(
        "key_values",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_key_values"),
    )

    op.create_table(
        "config_versions",
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_config_versions"),
    )
    op.create_index("ix_config_versions_section_version", "config_versions", ["section", "version"])


def downgrade() -> None:
    op.drop_index("ix_config_versions_section_version", table_name="config_versions")
    op.drop_table("config_versions")
    op.drop_table("key_values")
    op.drop_index("ix_positions_closed_at", table_name="positions")
    op.drop_index("ix_positions_is_open", table_name="positions")
    op.drop_table("positions")
    op.drop_index("ix_fills_time", table_name="fills")
    op.drop_index("ix_fills_client_order_id", table_name="fills")
    op.drop_table("fills")
    op.drop_index("ix_orders_strategy_id", table_name="orders")
    op.drop_index("ix_orders_symbol_created", table_name="orders")
    op.drop_index("ix_orders_signal_id", table_name="orders")
    op.drop_index("ix_orders_status", table_name="orders")
    op.drop_table("orders")
    op.drop_table("candles")
    op.drop_table("candle_series")
