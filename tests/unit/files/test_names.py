"""The one parser of candle file names and the grouping of ``--data`` values by symbol."""

from __future__ import annotations

from pathlib import Path

import pytest

from ictbot.adapters.files.names import (
    NamedSeries,
    check_named_timeframe,
    group_data_files,
    parse_candle_filename,
    split_data_arg,
)
from ictbot.domain.errors import InputDataError
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.market.series import symbol_from_filename


@pytest.mark.parametrize(("name", "expected"), [
    ("BTCUSDT-5m-2024-01.csv", NamedSeries("BTCUSDT", Timeframe.M5)),
    ("/data/spot/ETHUSDT-1h-2025-02-03.zip", NamedSeries("ETHUSDT", Timeframe.H1)),
    ("SOLUSDT-4h.csv", NamedSeries("SOLUSDT", Timeframe.H4)),
    ("BTC_USDT-5m.feather", NamedSeries("BTCUSDT", Timeframe.M5, Market.SPOT, "BTC", "USDT")),
    ("SOL_USDT-15m.feather", NamedSeries("SOLUSDT", Timeframe.M15, Market.SPOT, "SOL", "USDT")),
    ("BTC_USDT_USDT-5m-futures.feather", NamedSeries("BTCUSDT", Timeframe.M5, Market.USDM, "BTC", "USDT")),
    ("ETH_USDT-1d.json", NamedSeries("ETHUSDT", Timeframe.D1, Market.SPOT, "ETH", "USDT")),
])
def test_names_of_every_style(name: str, expected: NamedSeries) -> None:
    assert parse_candle_filename(name) == expected


@pytest.mark.parametrize("name", [
    "candles.csv", "BTCUSDT.csv", "BTCUSDT-1s-2024-01.csv", "BTCUSDT-7m-2024-01.csv",
    "BTC_USDT_USDT-1h-mark.feather", "BTC_USDT_USDT-8h-funding_rate.feather", "btc.feather",
])
def test_names_that_say_nothing_give_none(name: str) -> None:
    assert parse_candle_filename(name) is None


def test_symbol_equals_path_and_plain_paths() -> None:
    assert split_data_arg("ethusdt=a.csv,b.csv") == ("ETHUSDT", [Path("a.csv"), Path("b.csv")])
    assert split_data_arg("data/BTCUSDT-5m-2024-01.csv") == (None, [Path("data/BTCUSDT-5m-2024-01.csv")])


def _touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_text("")


def test_groups_by_name_and_by_explicit_symbol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path, "BTCUSDT-5m-2024-01.csv", "BTCUSDT-5m-2024-02.csv", "SOL_USDT-5m.feather", "candles.csv")
    groups = group_data_files(["BTCUSDT-5m-2024-01.csv", "BTCUSDT-5m-2024-02.csv", "SOL_USDT-5m.feather",
                               "XRPUSDT=candles.csv"])
    by_symbol = {g.symbol: g for g in groups}
    assert set(by_symbol) == {"BTCUSDT", "SOLUSDT", "XRPUSDT"}
    assert [f.name for f in by_symbol["BTCUSDT"].files] == ["BTCUSDT-5m-2024-01.csv", "BTCUSDT-5m-2024-02.csv"]
    assert by_symbol["BTCUSDT"].timeframe is Timeframe.M5 and by_symbol["BTCUSDT"].from_name
    assert by_symbol["SOLUSDT"].market is Market.SPOT
    assert by_symbol["XRPUSDT"].timeframe is None and not by_symbol["XRPUSDT"].from_name


def test_one_symbol_names_an_unnamed_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path, "candles.csv")
    (group,) = group_data_files(["candles.csv"], ["ethusdt"])
    assert group.symbol == "ETHUSDT"


def test_a_directory_stands_for_its_files_and_a_missing_file_is_named(tmp_path: Path) -> None:
    _touch(tmp_path, "ETHUSDT-1h-2024-01.csv", "ETHUSDT-1h-2024-02.csv")
    (group,) = group_data_files([str(tmp_path)])
    assert group.symbol == "ETHUSDT" and len(group.files) == 2 and group.timeframe is Timeframe.H1
    with pytest.raises(InputDataError, match="nope.csv: file not found"):
        group_data_files([str(tmp_path / "nope.csv")])


@pytest.mark.parametrize(("args", "symbols", "words"), [
    (["BTCUSDT-5m-2024-01.csv"], ["ETHUSDT"], "named for BTCUSDT, not --symbol ETHUSDT"),
    (["ETHUSDT=BTC_USDT-5m.feather"], [], "named for BTCUSDT, not ETHUSDT"),
    (["candles.csv"], [], "cannot tell the symbol from the file name"),
    (["BTCUSDT-5m-2024-01.csv"], ["BTCUSDT", "ETHUSDT"], "--symbol ETHUSDT"),
    (["BTCUSDT-5m-2024-01.csv", "BTCUSDT-1h-2024-02.csv"], [], "different timeframes (1h, 5m)"),
])
def test_contradictions_are_refused_in_one_line(args: list[str], symbols: list[str], words: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path, *(arg.partition("=")[2] or arg for arg in args))
    with pytest.raises(InputDataError) as error:
        group_data_files(args, symbols)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_a_name_that_contradicts_the_spacing_is_refused() -> None:
    check_named_timeframe(["ETH_USDT-15m.feather", "candles.csv"], Timeframe.M15)
    with pytest.raises(InputDataError, match="named 15m but the candles are 5m apart"):
        check_named_timeframe(["ETH_USDT-15m.feather"], Timeframe.M5)


def test_the_simulator_reads_freqtrade_names() -> None:
    assert symbol_from_filename(Path("SOL_USDT-5m.feather")) == "SOLUSDT"
    with pytest.raises(InputDataError, match="SYMBOL=PATH"):
        symbol_from_filename(Path("candles.csv"))
