"""Stored exchangeInfo round trip: what ``ictbot download --exchange-info`` saves, the catalogue reads back."""

from __future__ import annotations

import json

from ictbot.adapters.storage import Database
from ictbot.adapters.storage.exchange_info import SqlExchangeInfoStore, load_into
from ictbot.domain.market import Market
from ictbot.instruments import InstrumentCatalogue, SourceKind, UnknownInstrumentError, parse_exchange_info
from tests.conftest import FIXTURES, require_shared

USDM_FILE = FIXTURES / "futures" / "rest" / "exchange_info_full_20210721.real.json"
READ_AT = 1_626_858_243_909


async def test_stored_rules_come_back_equal_with_their_read_time(db: Database) -> None:
    payload = json.loads(require_shared(USDM_FILE).read_text())
    instruments = parse_exchange_info(payload, Market.USDM)
    store = SqlExchangeInfoStore(db)
    assert await store.save(instruments, Market.USDM, READ_AT, "https://fapi.example") == len(instruments)
    rows = await store.load(Market.USDM)
    assert {row.instrument.symbol: row.instrument for row in rows} == instruments
    assert {row.read_at_ms for row in rows} == {READ_AT} and {row.source for row in rows} == {"https://fapi.example"}
    assert await store.load(Market.SPOT) == []


async def test_a_second_download_replaces_the_rules_and_the_catalogue_prefers_them(db: Database) -> None:
    payload = json.loads(require_shared(USDM_FILE).read_text())
    btc = parse_exchange_info(payload, Market.USDM)["BTCUSDT"]
    store = SqlExchangeInfoStore(db)
    await store.save({"BTCUSDT": btc}, Market.USDM, READ_AT, "https://fapi.example")
    raw = next(s for s in payload["symbols"] if s["symbol"] == "BTCUSDT")
    changed = parse_exchange_info({"symbols": [{**raw, "status": "BREAK"}]}, Market.USDM)
    newer = READ_AT + 86_400_000
    await store.save(changed, Market.USDM, newer, "https://fapi.example")
    (row,) = await store.load()
    assert row.instrument.status == "BREAK" and row.read_at_ms == newer

    catalogue = InstrumentCatalogue(snapshot={})
    try:
        catalogue.resolve("BTCUSDT", Market.USDM)
        raise AssertionError("an empty catalogue knew BTCUSDT")
    except UnknownInstrumentError:
        pass
    assert load_into(catalogue, await store.load()) == 1
    found = catalogue.resolve("BTCUSDT", Market.USDM)
    assert found.instrument == row.instrument
    assert found.source.kind is SourceKind.DATABASE and found.source.as_of == "2021-07-22T09:04:03Z"
    assert "https://fapi.example" in found.source.describe()
