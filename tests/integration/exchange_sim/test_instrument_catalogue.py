"""The simulator publishes the instrument catalogue's rules and refuses symbols the catalogue lacks."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ictbot.domain.market import Market
from ictbot.exchange_sim import Simulator, SimulatorServer
from ictbot.exchange_sim.market.synthetic import generate
from ictbot.instruments import UnknownInstrumentError, default_catalogue
from tests.integration.exchange_sim.conftest import ORIGIN, small_config

D = Decimal


async def test_sol_exchange_info_carries_the_catalogues_lot_size_on_both_markets() -> None:
    config = small_config(series={"SOLUSDT": generate("SOLUSDT", ORIGIN, 700, seed=3)})
    async with SimulatorServer(config) as server, httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
        spot = (await http.get("/api/v3/exchangeInfo", params={"symbol": "SOLUSDT"})).json()
        futures = (await http.get("/fapi/v1/exchangeInfo")).json()
    for payload, market in ((spot, Market.SPOT), (futures, Market.USDM)):
        (symbol,) = [s for s in payload["symbols"] if s["symbol"] == "SOLUSDT"]
        lot = next(f for f in symbol["filters"] if f["filterType"] == "LOT_SIZE")
        price = next(f for f in symbol["filters"] if f["filterType"] == "PRICE_FILTER")
        expected = default_catalogue().instrument("SOLUSDT", market)
        assert (D(lot["stepSize"]), D(lot["minQty"]), D(lot["maxQty"])) == (
            expected.step_size, expected.min_qty, expected.max_qty)
        assert D(price["tickSize"]) == expected.tick_size
    spot_filters = {f["filterType"] for f in spot["symbols"][0]["filters"]}
    assert {"NOTIONAL", "PERCENT_PRICE_BY_SIDE"} <= spot_filters and "MIN_NOTIONAL" not in spot_filters
    assert D(next(f for f in spot["symbols"][0]["filters"] if f["filterType"] == "LOT_SIZE")["stepSize"]) == D("0.01")


def test_a_symbol_the_catalogue_lacks_is_refused_unless_derived_filters_are_asked_for() -> None:
    series = {"NOPEUSDT": generate("NOPEUSDT", ORIGIN, 700, seed=3)}
    with pytest.raises(UnknownInstrumentError, match=r"no instrument rules for NOPEUSDT \(spot\)"):
        Simulator(small_config(series=series))
    derived = Simulator(small_config(series=series, derive_unknown_filters=True))
    assert derived.engine.spec(Market.SPOT, "NOPEUSDT").tick_size > 0
    assert "derived" in derived.instrument_sources["NOPEUSDT"]


def test_startup_names_the_snapshot_date_of_each_symbols_rules() -> None:
    sim = Simulator(small_config())
    assert sim.instrument_sources["BTCUSDT"].startswith("snapshot of 2021-10-12")


async def test_a_spot_only_pair_has_no_usdm_contract() -> None:
    config = small_config(series={"ETHBTC": generate("ETHBTC", ORIGIN, 700, seed=3, start_price=0.07)})
    async with SimulatorServer(config) as server, httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
        spot = (await http.get("/api/v3/exchangeInfo", params={"symbol": "ETHBTC"})).json()
        futures = (await http.get("/fapi/v1/exchangeInfo")).json()
        await server.control.step(3)
    (symbol,) = spot["symbols"]
    tick = next(f for f in symbol["filters"] if f["filterType"] == "PRICE_FILTER")["tickSize"]
    assert D(tick) == default_catalogue().instrument("ETHBTC").tick_size
    assert [s["symbol"] for s in futures["symbols"]] == []
