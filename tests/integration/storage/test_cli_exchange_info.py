"""``ictbot download --exchange-info`` against the simulator, read back by the offline catalogue."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ictbot.adapters.storage import sqlite_url
from ictbot.adapters.storage.exchange_info import stored_catalogue
from ictbot.cli.main import app
from ictbot.domain.market import Market
from ictbot.exchange_sim import SimulatorServer
from ictbot.exchange_sim.market.synthetic import generate
from ictbot.instruments import SourceKind
from tests.integration.exchange_sim.conftest import ORIGIN, small_config


def test_downloaded_rules_are_what_offline_runs_use(tmp_path: Path) -> None:
    series = {name: generate(name, ORIGIN, 700, seed=3) for name in ("BTCUSDT", "NOPEUSDT")}
    server = SimulatorServer(small_config(series=series, derive_unknown_filters=True)).start_in_thread()
    url = sqlite_url(tmp_path / "rules.db")
    try:
        runner = CliRunner()
        for market in ("spot", "usdm"):
            done = runner.invoke(app, ["download", "--exchange-info", "--market", market, "--base-url",
                                       server.base_url, "--database-url", url])
            assert done.exit_code == 0, done.output
            assert f"stored the rules of 2 {market} symbols (2 TRADING)" in done.output
        published = {m: server.sim.engine.spec(m, "NOPEUSDT") for m in Market} if server.sim else {}
    finally:
        server.stop_in_thread()
    catalogue = stored_catalogue(url)
    for market, spec in published.items():
        found = catalogue.resolve("NOPEUSDT", market)
        assert found.source.kind is SourceKind.DATABASE and server.base_url in found.source.detail
        assert (found.instrument.tick_size, found.instrument.step_size) == (spec.tick_size, spec.step_size)
    assert catalogue.resolve("BTCUSDT").source.kind is SourceKind.DATABASE
    assert catalogue.resolve("ETHUSDT").source.kind is SourceKind.SNAPSHOT  # not downloaded: the snapshot's


def test_no_database_file_means_the_snapshot_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "rules.db"
    catalogue = stored_catalogue(sqlite_url(missing))
    assert catalogue.resolve("BTCUSDT").source.kind is SourceKind.SNAPSHOT
    assert not missing.exists() and not missing.parent.exists()
