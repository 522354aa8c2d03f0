"""Config endpoints over the real config manager: explicit null unsets, restart-only changes are
409, and every error the routes return is declared in the OpenAPI schema with its body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from tests.unit.api.config_facade import ContractFacade
from tests.unit.api.conftest import READ_TOKEN, TRADE, TRADE_TOKEN


@pytest.fixture
def facade(tmp_path: Path) -> ContractFacade:
    return ContractFacade(tmp_path)


@pytest.fixture
def client(facade: ContractFacade) -> Iterator[TestClient]:
    app = create_app(facade, ApiSettings(ws_heartbeat_s=60), tokens=TokenAuthority.from_tokens(TRADE_TOKEN, READ_TOKEN))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("field", ["risk_per_trade_pct", "risk_per_trade", "max_daily_loss", "max_drawdown",
                                   "cooldown_s", "max_positions", "max_exposure", "max_leverage"])
def test_null_risk_field_unsets_the_override(client: TestClient, field: str) -> None:
    values = {"risk_per_trade_pct": 2, "risk_per_trade": 0.02, "max_daily_loss": 0.05, "max_drawdown": 0.2,
              "cooldown_s": 600, "max_positions": 4, "max_exposure": "50", "max_leverage": 2}
    assert client.put("/config/risk", json={field: values[field]}, headers=TRADE).status_code == 200
    set_risk = client.get("/config", headers=TRADE).json()["risk"]
    assert len(set_risk) == 1
    response = client.put("/config/risk", json={field: None}, headers=TRADE)
    assert response.status_code == 200, response.text
    assert response.json()["risk"] == {}


def test_null_strategy_fields_reset_to_defaults(client: TestClient) -> None:
    body = {"strategy_id": "strategy_a", "risk_per_trade_pct": 1, "enabled": False, "max_positions": 3,
            "symbols": ["BTCUSDT"]}
    assert client.put("/config/strategy", json=body, headers=TRADE).status_code == 200
    nulls = {"strategy_id": "strategy_a", "risk_per_trade_pct": None, "enabled": None, "max_positions": None,
             "symbols": None, "params": None}
    response = client.put("/config/strategy", json=nulls, headers=TRADE)
    assert response.status_code == 200, response.text
    entry = response.json()["strategies"]["strategy_a"]
    fields = ("risk_per_trade_pct", "enabled", "max_positions", "symbols", "params")
    assert tuple(entry[name] for name in fields) == (None, True, 1, None, {})


def test_validate_accepts_nulls_and_reports_unknown_symbols(client: TestClient) -> None:
    response = client.post("/config/validate", json={"strategies": None, "risk": None}, headers=TRADE)
    assert response.status_code == 200 and response.json()["valid"] is True
    candidate = {"strategies": [{"strategy_id": "strategy_b", "symbols": ["DOGEUSDT"], "risk_per_trade_pct": None}],
                 "risk": {"max_drawdown": None}}
    result = client.post("/config/validate", json=candidate, headers=TRADE).json()
    assert result["valid"] is False
    assert result["errors"] == [{"field": "strategies.strategy_b.symbols",
                                 "reason": "DOGEUSDT not in exchange.symbols (BTCUSDT)"}]


async def test_rollback_of_the_exchange_while_running_is_a_409(client: TestClient, facade: ContractFacade) -> None:
    first = facade.manager.version
    document = facade.manager.document()
    await facade.manager.replace({**document, "exchange": {**document["exchange"], "symbols": ["ETHUSDT"]}}, "api")
    await facade.manager.start_watching()
    try:
        response = client.post(f"/config/rollback/{first}", headers=TRADE)
    finally:
        await facade.manager.stop_watching()
    assert response.status_code == 409
    assert response.json()["reasons"] == ["exchange.symbols: takes effect only at start: stop the bot, change it, "
                                          "then start again"]


def test_every_error_status_is_declared_with_a_body_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            declared = operation["responses"]
            assert {"400", "413"} <= set(declared), (method, path)
            if path != "/health":
                assert {"401", "422"} <= set(declared), (method, path)
            if method in ("put", "post", "delete") and path != "/config/validate":
                assert {"403", "409"} <= set(declared), (method, path)
            for code, response in declared.items():
                if code.startswith(("4", "5")):
                    assert "application/json" in response.get("content", {}), (method, path, code)
    conflict = spec["components"]["schemas"]["ConflictBody"]
    assert set(conflict["required"]) == {"detail", "reasons"}
