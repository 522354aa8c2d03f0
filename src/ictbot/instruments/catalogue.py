"""The instrument catalogue: the one source of symbol rules for backtest, simulator, paper and live.

Rules come from, in order: the exchange (``exchangeInfo`` read by the live venue), the database
(``ictbot download --exchange-info`` stores it with the time it was read), and the snapshot shipped
in the package. Every answer says which of them it came from (``InstrumentSource``); a symbol found
nowhere is one ``UnknownInstrumentError`` naming all three ways to provide it. No symbol ever gets
another symbol's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import Enum

from ictbot.domain.errors import IctbotError
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.instruments.snapshot import SnapshotPart, packaged_snapshot


class SourceKind(str, Enum):
    EXCHANGE = "exchange"
    DATABASE = "database"
    SNAPSHOT = "snapshot"


@dataclass(frozen=True, slots=True)
class InstrumentSource:
    """Where one symbol's rules came from and when they were read (``as_of``: ISO date or time, UTC)."""

    kind: SourceKind
    as_of: str
    detail: str = ""

    def describe(self) -> str:
        """One line for the CLI and logs, e.g. ``snapshot of 2021-10-12 (exchange_info_full_20211012.real.json)``."""
        text = f"{self.kind.value} of {self.as_of}"
        return f"{text} ({self.detail})" if self.detail else text

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "as_of": self.as_of, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ResolvedInstrument:
    instrument: Instrument
    source: InstrumentSource


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A rule the exchange changed since the catalogue last read it (raised as an ALERT)."""

    symbol: str
    market: Market
    field: str
    before: str
    after: str

    def describe(self) -> str:
        return f"{self.symbol} ({self.market.value}) {self.field}: {self.before} -> {self.after}"


class UnknownInstrumentError(IctbotError, LookupError):
    """No source knows the symbol: the message names the three ways to provide its rules."""

    def __init__(self, symbol: str, market: Market, snapshot_as_of: str | None) -> None:
        self.symbol = symbol
        self.market = market
        snapshot = f"the package snapshot of {snapshot_as_of}" if snapshot_as_of else "the package snapshot"
        super().__init__(
            f"no instrument rules for {symbol} ({market.value}): not read from the exchange's exchangeInfo, "
            f"not in the database (run `ictbot download --exchange-info --market {market.value}`), "
            f"and not in {snapshot}"
        )


def ms_to_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def rule_changes(before: Instrument, after: Instrument) -> list[RuleChange]:
    changed: list[RuleChange] = []
    for spec in fields(Instrument):
        old, new = getattr(before, spec.name), getattr(after, spec.name)
        if old != new:
            changed.append(RuleChange(after.symbol, after.market, spec.name, str(old), str(new)))
    return changed


_Key = tuple[Market, str]


class InstrumentCatalogue:
    """Lookup of one symbol's rules across the exchange, database and snapshot layers."""

    def __init__(self, snapshot: Mapping[Market, SnapshotPart] | None = None) -> None:
        self._snapshot: Mapping[Market, SnapshotPart] = packaged_snapshot() if snapshot is None else snapshot
        self._exchange: dict[_Key, ResolvedInstrument] = {}
        self._stored: dict[_Key, ResolvedInstrument] = {}

    def add_stored(self, instruments: Mapping[str, Instrument], market: Market, read_at_ms: int,
                   detail: str = "") -> None:
        """Rules read from the database (``read_at_ms``: when they were read from the exchange)."""
        source = InstrumentSource(SourceKind.DATABASE, ms_to_iso(read_at_ms), detail)
        for name, instrument in instruments.items():
            self._stored[(market, name)] = ResolvedInstrument(instrument, source)

    def update_from_exchange(self, instruments: Mapping[str, Instrument], market: Market, read_at_ms: int,
                             detail: str = "") -> list[RuleChange]:
        """Apply freshly read exchange rules; returns the rules that changed since the previous read."""
        source = InstrumentSource(SourceKind.EXCHANGE, ms_to_iso(read_at_ms), detail)
        changes: list[RuleChange] = []
        for name, instrument in instruments.items():
            previous = self._exchange.get((market, name))
            if previous is not None:
                changes.extend(rule_changes(previous.instrument, instrument))
            self._exchange[(market, name)] = ResolvedInstrument(instrument, source)
        return changes

    def snapshot_as_of(self, market: Market) -> str | None:
        part = self._snapshot.get(market)
        return part.as_of if part is not None else None

    def find(self, symbol: str, market: Market = Market.SPOT) -> ResolvedInstrument | None:
        key = (market, symbol.upper())
        found = self._exchange.get(key) or self._stored.get(key)
        if found is not None:
            return found
        part = self._snapshot.get(market)
        if part is None or key[1] not in part.instruments:
            return None
        source = InstrumentSource(SourceKind.SNAPSHOT, part.as_of, part.source_file)
        return ResolvedInstrument(part.instruments[key[1]], source)

    def resolve(self, symbol: str, market: Market = Market.SPOT) -> ResolvedInstrument:
        found = self.find(symbol, market)
        if found is None:
            raise UnknownInstrumentError(symbol, market, self.snapshot_as_of(market))
        return found

    def instrument(self, symbol: str, market: Market = Market.SPOT) -> Instrument:
        return self.resolve(symbol, market).instrument


_DEFAULT: list[InstrumentCatalogue] = []


def default_catalogue() -> InstrumentCatalogue:
    """The process-wide catalogue (snapshot only unless ``use_catalogue`` installed another)."""
    if not _DEFAULT:
        _DEFAULT.append(InstrumentCatalogue())
    return _DEFAULT[0]


def use_catalogue(catalogue: InstrumentCatalogue) -> None:
    """Make ``catalogue`` the process-wide one (the CLI does so with the database's stored rules),
    so the backtest, the in-process simulator and the paper venue of one run share the same rules."""
    _DEFAULT[:] = [catalogue]
