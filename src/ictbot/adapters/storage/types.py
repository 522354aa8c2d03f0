"""Column types that keep money exact on every backend.

Decimals are NUMERIC (unconstrained, exact) on PostgreSQL and TEXT on SQLite: SQLite's NUMERIC
affinity would silently turn ``"0.10000000"`` into a binary float, TEXT keeps the digits. Values
are written with ``str(Decimal)`` and read back with ``Decimal(text)``, so a round trip returns an
equal Decimal (the same digits, including trailing zeros on SQLite).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Text())
        return dialect.type_descriptor(sa.Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"cannot store non-finite decimal {value}")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


def big_id() -> TypeEngine[int]:
    """Auto-increment id: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON (stable text for identical values)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
