"""Every REST endpoint: auth and scopes, happy paths, 404 / 409 / 422, no 500 from client input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from tests.unit.api.conftest import READ, READ_TOKEN, TRADE, TRADE_TOKEN
from tests.unit.api.fakes import SECRET_API_KEY, FakeFacade

ORDER_BODY = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "30000",
              "stop_loss": "29500", "take_profits": ["31000"]}

# (method, path, json body) per endpoint and the scope it needs
READ_ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/status", None),
    ("GET", "/metrics", None),
    ("GET", "/metrics/prometheus", None),
    ("GET", "/config", None),
    ("POST", "/config/validate", {"strategies": [{"strategy_id": "ict_ote", "enabled": False}]}),
    ("GET", "/config/history", None),
    ("GET", "/positions", None),
    ("GET", "/positions/pos-1", None),
    ("GET", "/orders", None),
    ("GET", "/orders/ict-aaa-E0", None),
    ("GET", "/strategies", None),
    ("GET", "/analytics/performance", None),
    ("GET", "/analytics/risk", None),
    ("GET", "/analytics/trades", None),
    ("GET", "/signals", None),
    ("GET", "/candles?symbol=BTCUSDT&timeframe=5m&limit=10", None),
    ("GET", "/indicators?symbol=BTCUSDT", None),
]
TRADE_ENDPOINTS: list[tuple[str, str, Any]] = [
    ("PUT", "/config/strategy", {"strategy_id": "ict_ote", "risk_per_trade_pct": "2"}),
    ("PUT", "/config/risk", {"max_positions": 5}),
    ("POST", "/config/rollback/1", None),
    ("POST", "/positions/pos-1/close", {"reason": "test"}),
    ("POST", "/orders", ORDER_BODY),
    ("DELETE", "/orders/ict-aaa-E0", None),
    ("POST", "/strategies/silver_bullet/enable", None),
    ("POST", "/strategies/ict_ote/disable", None),
    ("POST", "/trading/halt", {"reason": "maintenance"}),
    ("POST", "/trading/resume", None),
    ("POST", "/emergency-stop", None),
]
ALL = READ_ENDPOINTS + TRADE_ENDPOINTS


def call(client: TestClient, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    return client.request(method, path, json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "path", "body"), ALL)
def test_missing_token_is_401(client: TestClient, method: str, path: str, body: Any) -> None:
    response = call(client, method, path, body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "body"), ALL)
def test_wrong_token_is_401(client: TestClient, method: str, path: str, body: Any) -> None:
    assert call(client, method, path, body, {"Authorization": "Bearer wrong-token-123456789"}).status_code == 401
    assert call(client, method, path, body, {"Authorization": f"Basic {TRADE_TOKEN}"}).status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), READ_ENDPOINTS)
def test_read_token_reads(client: TestClient, method: str, path: str, body: Any) -> None:
    assert call(client, method, path, body, READ).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), TRADE_ENDPOINTS)
def test_read_token_cannot_trade(client: TestClient, facade: FakeFacade, method: str, path: str, body: Any) -> None:
    response = call(client, method, path, body, READ)
    assert response.status_code == 403
    assert facade.calls == []  # refused before reaching the facade


@pytest.mark.parametrize(("method", "path", "body"), TRADE_ENDPOINTS)
def test_trade_token_trades(client: TestClient, method: str, path: str, body: Any) -> None:
    response = call(client, method, path, body, TRADE)
    expected = 409 if path == "/config/rollback/1" else None  # version 1 is active in the fake
    assert response.status_code == (expected or response.status_code)
    assert response.status_code in ({expected} if expected else {200, 201, 202})


@pytest.mark.parametrize(("method", "path", "body"), ALL)
def test_no_secret_in_any_response(client: TestClient, method: str, path: str, body: Any) -> None:
    text = call(client, method, path, body, TRADE).text
    for secret in (SECRET_API_KEY, TRADE_TOKEN, READ_TOKEN):
        assert secret not in text


# ---- system ------------------------------------------------------------------------------------------
def test_health_needs_no_token_and_reports_components(client: TestClient, facade: FakeFacade) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
    assert set(response.json()["components"]) == {"bus", "market_data"}
    facade.healthy = False
    degraded = client.get("/health")
    assert degraded.status_code == 200  # trading goes on; the reason is reported
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["components"]["market_data"]["reason"] == "stale: no kline for 120 s"
    facade.exchange_down = True
    down = client.get("/health")
    assert down.status_code == 503 and down.json()["status"] == "down"
    assert down.json()["components"]["exchange"] == {"status": "down", "reason": "connection refused",
                                                     "detail": "connection refused", "last_ok_ms": None,
                                                     "until_ms": None}


def test_status_shape(client: TestClient) -> None:
    body = client.get("/status", headers=READ).json()
    assert body["active_positions"] == 1 and body["pending_orders"] == 1
    assert body["enabled_strategies"] == ["ict_ote"]
    assert body["trading_state"] == "ACTIVE"
    assert body["metrics"]["win_rate"] == 0.75
    assert body["metrics"]["total_pnl"] == "120.5"  # money as a decimal string


def test_prometheus_exposition(tokens: TokenAuthority, facade: FakeFacade) -> None:
    from prometheus_client import CollectorRegistry, Counter

    registry = CollectorRegistry()
    Counter("ictbot_test_total", "a test counter", registry=registry).inc(3)
    app = create_app(facade, ApiSettings(), tokens=tokens, registry=registry)
    with TestClient(app) as client:
        response = client.get("/metrics/prometheus", headers=READ)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "ictbot_test_total 3.0" in response.text


# ---- config -------------------------------------------------------------------------------------------
def test_config_is_redacted(client: TestClient) -> None:
    body = client.get("/config", headers=READ).json()
    assert body["other"]["exchange"]["api_key"] == "***"
    assert body["strategies"]["ict_ote"]["enabled"] is True


def test_update_strategy_and_history_and_rollback(client: TestClient) -> None:
    updated = client.put("/config/strategy", json={"strategy_id": "ict_ote", "max_positions": 4}, headers=TRADE)
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert updated.json()["strategies"]["ict_ote"]["max_positions"] == 4
    history = client.get("/config/history", headers=READ).json()
    assert [h["version"] for h in history] == [2, 1]
    rolled = client.post("/config/rollback/1", headers=TRADE)
    assert rolled.status_code == 200
    assert rolled.json()["strategies"]["ict_ote"]["max_positions"] == 2
    assert client.post("/config/rollback/99", headers=TRADE).status_code == 404
    assert client.post("/config/rollback/0", headers=TRADE).status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"strategy_id": "ict_ote", "risk_per_trade_pct": "15"}, "body.risk_per_trade_pct"),
        ({"strategy_id": "ict_ote", "risk_per_trade_pct": "0.5", "risk_per_trade": "0.005"}, "body"),
        ({"strategy_id": "ict_ote", "risk_per_trade": "1.5"}, "body.risk_per_trade"),
        ({"strategy_id": "ict_ote", "risk_per_trade": "NaN"}, "body.risk_per_trade"),
        ({"strategy_id": "ict_ote", "max_positions": -1}, "body.max_positions"),
        ({"strategy_id": "ict ote!"}, "body.strategy_id"),
        ({"strategy_id": "ict_ote", "surprise": 1}, "body.surprise"),
        ({"risk_per_trade": "0.01"}, "body.strategy_id"),
    ],
)
def test_strategy_update_validation(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.put("/config/strategy", json=body, headers=TRADE)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_strategy_update_unknown_strategy_404_and_semantic_422(client: TestClient) -> None:
    assert client.put("/config/strategy", json={"strategy_id": "nope"}, headers=TRADE).status_code == 404
    response = client.put("/config/strategy", json={"strategy_id": "ict_ote", "enabled": True, "max_positions": 0},
                          headers=TRADE)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "max_positions",
                                          "reason": "an enabled strategy needs max_positions >= 1"}]


def test_risk_update(client: TestClient) -> None:
    assert client.put("/config/risk", json={}, headers=TRADE).status_code == 422
    assert client.put("/config/risk", json={"max_leverage": 500}, headers=TRADE).status_code == 422
    response = client.put("/config/risk", json={"max_daily_loss": "0.05"}, headers=TRADE)
    assert response.status_code == 200 and response.json()["risk"]["max_daily_loss"] == "0.05"


def test_validate_config_reports_field_reasons(client: TestClient) -> None:
    response = client.post("/config/validate", json={"strategies": [{"strategy_id": "ghost"}]}, headers=READ)
    assert response.status_code == 200
    assert response.json() == {"valid": False,
                               "errors": [{"field": "strategies.0.strategy_id", "reason": "unknown strategy"}]}


# ---- positions ----------------------------------------------------------------------------------------
def test_positions(client: TestClient) -> None:
    listed = client.get("/positions", headers=READ).json()
    assert [p["id"] for p in listed] == ["pos-1"]
    assert listed[0]["unrealized_pnl"] == "250.0"
    assert client.get("/positions/nope", headers=READ).status_code == 404
    assert client.get("/positions/bad%20id", headers=READ).status_code == 422


def test_close_position_then_conflict(client: TestClient) -> None:
    closed = client.post("/positions/pos-1/close", headers=TRADE)
    assert closed.status_code == 202
    assert closed.json()["reduce_only"] is True and closed.json()["side"] == "SELL"
    again = client.post("/positions/pos-1/close", headers=TRADE)
    assert again.status_code == 409
    assert client.post("/positions/nope/close", headers=TRADE).status_code == 404
    assert client.get("/positions", headers=READ).json() == []
    assert len(client.get("/positions?include_closed=true", headers=READ).json()) == 1


# ---- orders -------------------------------------------------------------------------------------------
def test_orders_filters_and_pagination(client: TestClient) -> None:
    page = client.get("/orders?limit=1&offset=0", headers=READ).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["limit"] == 1
    assert client.get("/orders?symbol=ETHUSDT", headers=READ).json()["total"] == 1
    assert client.get("/orders?open_only=true", headers=READ).json()["total"] == 1
    assert client.get("/orders?status=CANCELED", headers=READ).json()["items"][0]["client_order_id"] == "ict-bbb-E0"
    for bad in ("limit=0", "limit=501", "offset=-1", "status=BOGUS", "symbol=btc/usdt", "unknown=1"):
        assert client.get(f"/orders?{bad}", headers=READ).status_code == 422, bad


def test_get_and_cancel_order(client: TestClient) -> None:
    assert client.get("/orders/ict-aaa-E0", headers=READ).json()["status"] == "NEW"
    assert client.get("/orders/nope", headers=READ).status_code == 404
    canceled = client.delete("/orders/ict-aaa-E0", headers=TRADE)
    assert canceled.status_code == 200 and canceled.json()["status"] == "CANCELED"
    assert client.delete("/orders/ict-aaa-E0", headers=TRADE).status_code == 409
    assert client.delete("/orders/nope", headers=TRADE).status_code == 404


@pytest.mark.parametrize(
    "patch",
    [
        {"type": "LIMIT", "price": None},
        {"type": "MARKET"},
        {"quantity": "-1"},
        {"quantity": "1e400"},
        {"stop_loss": "31000"},
        {"take_profits": []},
        {"take_profits": ["29000"]},
        {"side": "HOLD"},
        {"symbol": "BTC-USDT"},
        {"extra": True},
    ],
)
def test_manual_order_validation(client: TestClient, facade: FakeFacade, patch: dict[str, Any]) -> None:
    body = {**ORDER_BODY, **patch}
    response = client.post("/orders", json=body, headers=TRADE)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]
    assert "create_manual_order" not in facade.calls


def test_manual_order_paths(client: TestClient, facade: FakeFacade) -> None:
    created = client.post("/orders", json=ORDER_BODY, headers=TRADE)
    assert created.status_code == 201 and created.json()["price"] == "30000"
    unknown = client.post("/orders", json={**ORDER_BODY, "symbol": "XYZUSDT"}, headers=TRADE)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "symbol"
    client.post("/trading/halt", headers=TRADE)
    halted = client.post("/orders", json=ORDER_BODY, headers=TRADE)
    assert halted.status_code == 409 and halted.json()["reasons"] == ["risk: trading state HALTED"]


# ---- strategies and trading state ---------------------------------------------------------------------
def test_strategies(client: TestClient) -> None:
    assert {s["id"] for s in client.get("/strategies", headers=READ).json()} == {"ict_ote", "silver_bullet"}
    assert client.post("/strategies/silver_bullet/enable", headers=TRADE).json()["enabled"] is True
    assert client.post("/strategies/ict_ote/disable", headers=TRADE).json()["enabled"] is False
    assert client.post("/strategies/nope/enable", headers=TRADE).status_code == 404


def test_halt_resume_emergency(client: TestClient) -> None:
    halted = client.post("/trading/halt", json={"reason": "news"}, headers=TRADE).json()
    assert halted == {"state": "HALTED", "reason": "news", "changed_at_ms": 1_700_000_000_000}
    assert client.post("/trading/halt", json={"reason": "x" * 201}, headers=TRADE).status_code == 422
    assert client.post("/trading/resume", headers=TRADE).json()["state"] == "ACTIVE"
    stop = client.post("/emergency-stop", headers=TRADE).json()
    assert stop["state"] == "HALTED" and stop["canceled_orders"] == ["ict-aaa-E0"]
    assert stop["closing_orders"] == ["ict-close-pos-1"]
    assert client.post("/trading/resume", headers=TRADE).status_code == 409


# ---- analytics and market data ------------------------------------------------------------------------
def test_analytics(client: TestClient) -> None:
    assert client.get("/analytics/performance", headers=READ).json()["metrics"]["profit_factor"] == 3.0
    assert client.get("/analytics/risk", headers=READ).json()["daily_pnl"] == "-12.5"
    trades = client.get("/analytics/trades?limit=10", headers=READ).json()
    assert trades["total"] == 1 and trades["items"][0]["pnl"] == "250"
    assert client.get("/analytics/trades?limit=9999", headers=READ).status_code == 422


def test_candles_and_indicators(client: TestClient) -> None:
    candles = client.get("/candles?symbol=BTCUSDT&timeframe=1h&limit=3", headers=READ).json()
    assert len(candles) == 3 and candles[1]["open_time_ms"] - candles[0]["open_time_ms"] == 3_600_000
    assert client.get("/candles?symbol=ETHUSDT", headers=READ).status_code == 404
    assert client.get("/candles?symbol=BTCUSDT&timeframe=7m", headers=READ).status_code == 422
    assert client.get("/candles", headers=READ).status_code == 422
    assert client.get("/indicators?symbol=BTCUSDT&timeframe=5m", headers=READ).json()["views"]["5m"]["trend"] == 1
    assert client.get("/indicators?symbol=DOGEUSDT", headers=READ).status_code == 404


# ---- hardening -----------------------------------------------------------------------------------------
def test_body_size_limit(client: TestClient) -> None:
    big = {"reason": "x" * 100_000}
    assert client.post("/trading/halt", json=big, headers=TRADE).status_code == 413


def test_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1024

    response = client.post("/trading/halt", content=chunks(), headers={**TRADE, "content-type": "application/json"})
    assert response.status_code == 413


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.put("/config/risk", content=b"{not json", headers={**TRADE, "content-type": "application/json"})
    assert response.status_code == 422


def test_facade_bug_gives_a_safe_500(client: TestClient, facade: FakeFacade) -> None:
    facade.fail_with = RuntimeError(f"boom with {SECRET_API_KEY}")
    response = client.get("/status", headers=READ)
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}


def test_secrets_never_logged(client: TestClient, facade: FakeFacade, capsys: pytest.CaptureFixture[str],
                              caplog: pytest.LogCaptureFixture) -> None:
    facade.fail_with = RuntimeError(f"boom with {SECRET_API_KEY}")
    client.get("/status", headers=READ)
    client.get("/status", headers={"Authorization": f"Bearer {TRADE_TOKEN}x"})
    with client.websocket_connect(f"/ws?token={READ_TOKEN}") as ws:
        ws.receive_json()
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    for secret in (SECRET_API_KEY, TRADE_TOKEN, READ_TOKEN):
        assert secret not in logged


def test_security_headers_and_no_cors_by_default(client: TestClient) -> None:
    response = client.get("/health", headers={"Origin": "http://evil.test"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/status", headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_only_for_listed_origins(facade: FakeFacade, tokens: TokenAuthority) -> None:
    app = create_app(facade, ApiSettings(cors_origins=("http://dash.test",)), tokens=tokens)
    with TestClient(app) as client:
        ok = client.get("/health", headers={"Origin": "http://dash.test"})
        evil = client.get("/health", headers={"Origin": "http://evil.test"})
    assert ok.headers["access-control-allow-origin"] == "http://dash.test"
    assert "access-control-allow-origin" not in evil.headers


def test_dashboard_is_served_without_token(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboard"
    assert client.get("/static/dashboard.js").status_code == 200
