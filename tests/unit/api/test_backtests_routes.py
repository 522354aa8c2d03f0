"""GET /backtests and /backtests/{name}: the results documents of the --reports folder, confined to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from tests.unit.api.conftest import READ
from tests.unit.api.fakes import FakeFacade

TRADE = {"number": 1, "symbol": "BTCUSDT", "strategy_id": "s2_fvg", "direction": "LONG", "entry_time": 1696179300000,
         "entry_price": "27124.04", "exit_time": 1696182000000, "exit_price": "27082.38", "qty": "0.03686",
         "fees": "1.99", "pnl": "-3.53", "net_pnl": "-3.53", "exit_reason": "stop", "entry_reason": ["bullish_fvg"]}
RESULT = {
    "schema": "ictbot.backtest/1",
    "deviations_from_live": [{"field": "circuit_breakers", "value": "off", "live": "on"}],
    "metadata": {"parameters": {"symbols": ["BTCUSDT"], "timeframe": "5m", "strategy": "s2_fvg"}},
    "summary": {"trades": 1, "win_rate_pct": 0.0, "profit_factor": 0.0, "net_pnl": -3.53, "fees": 1.99,
                "total_return_pct": -0.0353, "max_drawdown_pct": -0.04, "sharpe": None,
                "start": 1696118400000, "end": 1698796800000},
    "monthly_returns": [{"year": 2023, "month": 10, "return_pct": -0.0353}],
    "trades": [TRADE],
    "fingerprint": "abc123",
}


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "s2_btc.json").write_text(json.dumps(RESULT))
    (folder / "broken.json").write_text("{not json")
    (folder / "other.json").write_text(json.dumps({"hello": 1}))
    (tmp_path / "outside.json").write_text(json.dumps(RESULT))
    return folder


@pytest.fixture
def client_with(reports: Path, tokens: TokenAuthority) -> Iterator[TestClient]:
    app = create_app(FakeFacade(), ApiSettings(ws_heartbeat_s=60, reports_dir=reports), tokens=tokens)
    with TestClient(app) as client:
        yield client


def test_the_list_summarises_each_result_and_names_the_files_that_are_not_one(
    client_with: TestClient, reports: Path
) -> None:
    answer = client_with.get("/backtests", headers=READ).json()
    assert answer["folder"] == str(reports)
    [item] = answer["items"]
    assert item["name"] == "s2_btc.json" and item["strategy"] == "s2_fvg" and item["symbols"] == ["BTCUSDT"]
    assert item["trades"] == 1 and item["net_pnl"] == -3.53 and item["fingerprint"] == "abc123"
    assert sorted(e.split(":")[0] for e in answer["errors"]) == ["broken.json", "other.json"]
    assert any("not an ictbot backtest results document" in e for e in answer["errors"])


def test_one_result_comes_with_its_trades_and_why(client_with: TestClient) -> None:
    detail = client_with.get("/backtests/s2_btc.json", headers=READ).json()
    assert detail["summary"]["name"] == "s2_btc.json"
    assert detail["trades"][0]["entry_reason"] == ["bullish_fvg"] and detail["trades_truncated"] is False
    assert detail["deviations_from_live"][0]["field"] == "circuit_breakers"


@pytest.mark.parametrize("name", ["..%2Foutside.json", "missing.json", "broken.json", ".hidden.json", "x.txt"])
def test_nothing_outside_the_folder_or_not_a_result_is_served(client_with: TestClient, name: str) -> None:
    assert client_with.get(f"/backtests/{name}", headers=READ).status_code in (404, 422)


def test_without_a_reports_folder_the_list_is_empty_and_says_so(client: TestClient) -> None:
    assert client.get("/backtests", headers=READ).json() == {"folder": None, "items": [], "errors": []}
    assert client.get("/backtests").status_code == 401
