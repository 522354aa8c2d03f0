"""The instrument snapshot shipped in the package (``bundled/binance_snapshot.json``).

The folder is not called ``data/``: .gitignore excludes every ``data/`` directory.

It is the catalogue's last resort for offline use: every TRADING symbol of a recorded full spot
and USD-M ``exchangeInfo``, reduced to the fields ``Instrument`` needs. The snapshot records the
day each payload was read; the catalogue shows that date wherever a snapshot rule is used.
``scripts/make_instrument_snapshot.py`` writes it with ``build_snapshot`` + ``dump_snapshot``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from ictbot.domain.errors import InputDataError
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.instruments.codec import from_record, to_record
from ictbot.instruments.exchange_info import parse_exchange_info

FORMAT = 1
SNAPSHOT_FILE = "binance_snapshot.json"


@dataclass(frozen=True, slots=True)
class SnapshotPart:
    """One market's rules in the snapshot and where they were read."""

    market: Market
    source_file: str
    as_of: str  # the UTC day of the payload's serverTime, e.g. "2021-10-12"
    instruments: dict[str, Instrument]


def day_of(server_time_ms: int) -> str:
    return datetime.fromtimestamp(server_time_ms / 1000, tz=UTC).date().isoformat()


def build_part(payload: Any, market: Market, source_file: str) -> SnapshotPart:
    server_time = payload.get("serverTime") if isinstance(payload, dict) else None
    if not isinstance(server_time, int):
        raise InputDataError(source_file, "field serverTime is missing: the snapshot needs the payload's date")
    instruments = parse_exchange_info(payload, market, trading_only=True)
    return SnapshotPart(market, source_file, day_of(server_time), instruments)


def build_snapshot(parts: list[SnapshotPart]) -> dict[str, Any]:
    document: dict[str, Any] = {"format": FORMAT, "sources": {}}
    for part in parts:
        document["sources"][part.market.value] = {"file": part.source_file, "as_of": part.as_of}
        document[part.market.value] = {name: to_record(part.instruments[name]) for name in sorted(part.instruments)}
    return document


def dump_snapshot(document: dict[str, Any]) -> str:
    """Compact JSON, one symbol per line (small, and a changed rule shows as a one-line diff)."""
    lines = ["{" + f'"format":{json.dumps(document["format"])},"sources":'
             + json.dumps(document["sources"], sort_keys=True, separators=(",", ":"))]
    for market in (m.value for m in Market):
        records = document.get(market)
        if records is None:
            continue
        body = ",\n".join(json.dumps(name) + ":" + json.dumps(record, sort_keys=True, separators=(",", ":"))
                          for name, record in records.items())
        lines.append(f',"{market}":{{\n{body}\n}}')
    return "".join(lines) + "}\n"


def parse_snapshot(text: str, source: str = SNAPSHOT_FILE) -> dict[Market, SnapshotPart]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputDataError(source, f"not valid JSON ({exc.msg})", exc.lineno) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputDataError(source, f"field format must be {FORMAT}")
    parts: dict[Market, SnapshotPart] = {}
    for market in Market:
        origin = document["sources"].get(market.value)
        if origin is None:
            continue
        records = document.get(market.value, {})
        instruments = {name: from_record(name, market, record) for name, record in records.items()}
        parts[market] = SnapshotPart(market, str(origin["file"]), str(origin["as_of"]), instruments)
    return parts


@cache
def packaged_snapshot() -> dict[Market, SnapshotPart]:
    """The snapshot shipped with the package (read once per process)."""
    text = resources.files("ictbot.instruments").joinpath("bundled", SNAPSHOT_FILE).read_text(encoding="utf-8")
    return parse_snapshot(text)
