"""Instrument catalogue: one source of symbol rules (exchange → database → packaged snapshot)."""

from ictbot.instruments.catalogue import (
    InstrumentCatalogue,
    InstrumentSource,
    ResolvedInstrument,
    RuleChange,
    SourceKind,
    UnknownInstrumentError,
    default_catalogue,
    use_catalogue,
)
from ictbot.instruments.exchange_info import parse_exchange_info, parse_symbol

__all__ = [
    "InstrumentCatalogue",
    "InstrumentSource",
    "ResolvedInstrument",
    "RuleChange",
    "SourceKind",
    "UnknownInstrumentError",
    "default_catalogue",
    "parse_exchange_info",
    "parse_symbol",
    "use_catalogue",
]
