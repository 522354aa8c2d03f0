"""The instrument catalogue answers with the recorded exchangeInfo values, says where they came
from, refuses unknown symbols with one clear error, and its snapshot regenerates byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ictbot.domain.market import Market
from ictbot.instruments import InstrumentCatalogue, SourceKind, UnknownInstrumentError, parse_symbol
from ictbot.instruments.codec import from_record, to_record
from ictbot.instruments.snapshot import SNAPSHOT_FILE
from tests.conftest import FIXTURES, REPO_ROOT, require_shared

D = Decimal
SPOT_FILE = FIXTURES / "spot" / "rest" / "exchange_info_full_20211012.real.json"
USDM_FILE = FIXTURES / "futures" / "rest" / "exchange_info_full_20210721.real.json"


@cache
def _payload(path: Path) -> dict[str, Any]:
    return json.loads(require_shared(path).read_text())  # type: ignore[no-any-return]


def _recorded(path: Path, symbol: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    raw = next(s for s in _payload(path)["symbols"] if s["symbol"] == symbol)
    return raw, {f["filterType"]: f for f in raw["filters"]}


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"])
def test_spot_lookup_returns_the_recorded_filters(symbol: str) -> None:
    raw, filters = _recorded(SPOT_FILE, symbol)
    found = InstrumentCatalogue().resolve(symbol, Market.SPOT)
    inst = found.instrument
    assert (inst.base_asset, inst.quote_asset, inst.market) == (raw["baseAsset"], raw["quoteAsset"], Market.SPOT)
    assert inst.tick_size == D(filters["PRICE_FILTER"]["tickSize"])
    assert inst.min_price == D(filters["PRICE_FILTER"]["minPrice"])
    assert inst.max_price == D(filters["PRICE_FILTER"]["maxPrice"])
    assert inst.step_size == D(filters["LOT_SIZE"]["stepSize"])
    assert inst.min_qty == D(filters["LOT_SIZE"]["minQty"])
    assert inst.max_qty == D(filters["LOT_SIZE"]["maxQty"])
    assert inst.market_max_qty == D(filters["MARKET_LOT_SIZE"]["maxQty"])
    assert inst.min_notional == D(filters["MIN_NOTIONAL"]["minNotional"])
    assert inst.bid_multiplier_up == D(filters["PERCENT_PRICE"]["multiplierUp"])
    assert inst.ask_multiplier_down == D(filters["PERCENT_PRICE"]["multiplierDown"])
    assert inst.order_types == tuple(raw["orderTypes"])
    assert inst.oco_allowed is raw["ocoAllowed"]
    assert found.source.kind is SourceKind.SNAPSHOT and found.source.as_of == "2021-10-12"
    assert SPOT_FILE.name in found.source.describe()


def test_xrp_has_its_own_tick_and_step_not_btcs() -> None:
    xrp = InstrumentCatalogue().instrument("XRPUSDT")
    assert (xrp.tick_size, xrp.step_size) == (D("0.0001"), D("1"))
    assert xrp.round_price(D("2.6629")) == D("2.6629") and xrp.round_price(D("2.6596")) == D("2.6596")


def test_usdm_lookup_returns_the_recorded_contract() -> None:
    raw, filters = _recorded(USDM_FILE, "BTCUSDT")
    found = InstrumentCatalogue().resolve("BTCUSDT", Market.USDM)
    inst = found.instrument
    assert inst.market is Market.USDM
    assert inst.tick_size == D(filters["PRICE_FILTER"]["tickSize"])
    assert inst.min_price == D(filters["PRICE_FILTER"]["minPrice"])
    assert inst.step_size == D(filters["LOT_SIZE"]["stepSize"])
    assert inst.market_step_size == D(filters["MARKET_LOT_SIZE"]["stepSize"])
    assert inst.market_max_qty == D(filters["MARKET_LOT_SIZE"]["maxQty"])
    assert inst.min_notional == D(filters["MIN_NOTIONAL"]["notional"])
    assert inst.bid_multiplier_up == D(filters["PERCENT_PRICE"]["multiplierUp"])
    assert (inst.price_precision, inst.quantity_precision) == (raw["pricePrecision"], raw["quantityPrecision"])
    assert (inst.contract_type, inst.margin_asset) == (raw["contractType"], raw["marginAsset"])
    assert inst.order_types == tuple(raw["orderTypes"]) and not inst.oco_allowed
    assert found.source.as_of == "2021-07-21"


def test_unknown_symbol_is_one_error_naming_the_three_sources() -> None:
    with pytest.raises(UnknownInstrumentError) as caught:
        InstrumentCatalogue().resolve("NOPEUSDT", Market.SPOT)
    text = str(caught.value)
    assert text.startswith("no instrument rules for NOPEUSDT (spot)")
    assert "exchangeInfo" in text
    assert "ictbot download --exchange-info --market spot" in text
    assert "snapshot of 2021-10-12" in text
    assert "\n" not in text


def test_a_non_trading_symbol_is_not_in_the_snapshot() -> None:
    halted = next(s for s in _payload(SPOT_FILE)["symbols"] if s["status"] != "TRADING")
    assert InstrumentCatalogue().find(halted["symbol"], Market.SPOT) is None


def test_exchange_rules_win_over_stored_over_snapshot_and_changes_are_reported() -> None:
    catalogue = InstrumentCatalogue()
    snapshot = catalogue.instrument("BTCUSDT")
    stored = parse_symbol({**_recorded(SPOT_FILE, "BTCUSDT")[0], "ocoAllowed": False})
    catalogue.add_stored({"BTCUSDT": stored}, Market.SPOT, 1_700_000_000_000, "read from https://example")
    assert catalogue.resolve("BTCUSDT").source.kind is SourceKind.DATABASE
    assert catalogue.instrument("BTCUSDT") == stored != snapshot
    assert catalogue.update_from_exchange({"BTCUSDT": snapshot}, Market.SPOT, 1_800_000_000_000) == []
    found = catalogue.resolve("BTCUSDT")
    assert found.source.kind is SourceKind.EXCHANGE and found.source.as_of == "2027-01-15T08:00:00Z"
    changes = catalogue.update_from_exchange({"BTCUSDT": stored}, Market.SPOT, 1_800_000_100_000)
    assert [c.describe() for c in changes] == ["BTCUSDT (spot) oco_allowed: True -> False"]
    assert catalogue.instrument("BTCUSDT") == stored
    assert catalogue.instrument("BTCUSDT", Market.USDM).market is Market.USDM  # the other market untouched


def test_record_round_trip_keeps_every_field() -> None:
    for path, market in ((SPOT_FILE, Market.SPOT), (USDM_FILE, Market.USDM)):
        inst = parse_symbol(_recorded(path, "SOLUSDT")[0], market)
        assert from_record("SOLUSDT", market, json.loads(json.dumps(to_record(inst)))) == inst


def test_snapshot_script_regenerates_the_packaged_file(tmp_path: Path) -> None:
    require_shared(SPOT_FILE), require_shared(USDM_FILE)
    out = tmp_path / "snapshot.json"
    script = REPO_ROOT / "scripts" / "make_instrument_snapshot.py"
    done = subprocess.run([sys.executable, str(script), "--spot", str(SPOT_FILE), "--usdm", str(USDM_FILE),
                           "--out", str(out)], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    packaged = REPO_ROOT / "src" / "ictbot" / "instruments" / "bundled" / SNAPSHOT_FILE
    assert out.read_bytes() == packaged.read_bytes()
    trading = {m: sum(s["status"] == "TRADING" for s in _payload(p)["symbols"])
               for m, p in (("spot", SPOT_FILE), ("usdm", USDM_FILE))}
    document = json.loads(out.read_text())
    assert {m: len(document[m]) for m in trading} == trading
