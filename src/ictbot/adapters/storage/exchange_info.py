"""Stored exchange symbol rules (``exchange_info`` table) for the instrument catalogue.

``ictbot download --exchange-info`` saves what the exchange published, with the time it was read;
``load_into`` hands the stored rules to an ``InstrumentCatalogue`` for offline runs. The rules are
the catalogue's own compact record, so the database, the snapshot and the exchange agree on form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
import structlog
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ictbot.adapters.storage import tables as t
from ictbot.adapters.storage.database import Database, create_db_engine
from ictbot.adapters.storage.upsert import write_upsert
from ictbot.adapters.storage.url import normalize_url, redact, sqlite_file
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.instruments import InstrumentCatalogue
from ictbot.instruments.codec import from_record, to_record

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StoredInstrument:
    instrument: Instrument
    read_at_ms: int
    source: str  # the exchange's base URL it was read from


class SqlExchangeInfoStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, instruments: Mapping[str, Instrument], market: Market, read_at_ms: int,
                   source: str) -> int:
        """Replace the stored rules of these symbols; returns how many rows were written."""
        rows = [
            {"market": market.value, "symbol": name, "read_at": read_at_ms, "source": source[:255],
             "rules": json.dumps(to_record(instrument), sort_keys=True, separators=(",", ":"))}
            for name, instrument in sorted(instruments.items())
        ]
        await self._db.write(lambda c: write_upsert(c, t.exchange_info, ["market", "symbol"], rows))
        return len(rows)

    async def load(self, market: Market | None = None) -> list[StoredInstrument]:
        return await self._db.read(lambda c: _load(c, market))

    def load_sync(self, market: Market | None = None) -> list[StoredInstrument]:
        return self._db.read_sync(lambda c: _load(c, market))


def _load(connection: Connection, market: Market | None) -> list[StoredInstrument]:
    table = t.exchange_info
    stmt = sa.select(table.c.market, table.c.symbol, table.c.rules, table.c.read_at, table.c.source).order_by(
        table.c.market, table.c.symbol)
    if market is not None:
        stmt = stmt.where(table.c.market == market.value)
    return [
        StoredInstrument(from_record(str(symbol), Market(market_name), json.loads(rules)), int(read_at), str(source))
        for market_name, symbol, rules, read_at, source in connection.execute(stmt).all()
    ]


def load_into(catalogue: InstrumentCatalogue, stored: list[StoredInstrument]) -> int:
    """Add stored rules to ``catalogue`` (below the exchange's, above the snapshot's)."""
    for row in stored:
        catalogue.add_stored({row.instrument.symbol: row.instrument}, row.instrument.market, row.read_at_ms,
                             f"read from {row.source}")
    return len(stored)


def stored_catalogue(url: str) -> InstrumentCatalogue:
    """The catalogue with the rules stored at ``url`` (offline runs); just the snapshot when there are none.

    Reading never creates anything: a missing SQLite file or a database without the table (not
    migrated, nothing downloaded) leaves the snapshot as the only source.
    """
    catalogue = InstrumentCatalogue()
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is None or not path.is_file():
            return catalogue
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            if sa.inspect(connection).has_table(t.exchange_info.name):
                load_into(catalogue, _load(connection, None))
    except SQLAlchemyError as exc:  # an offline run still has the snapshot: say so and go on
        log.warning("stored exchange rules unreadable; using the packaged snapshot", database=redact(url),
                    error=str(exc).splitlines()[0])
    finally:
        engine.dispose()
    return catalogue
