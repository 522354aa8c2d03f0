"""The routes the dashboard adds: the caller's scope and the symbols' tick sizes; its vendored chart."""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi.testclient import TestClient

from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from ictbot.ports.dashboard import InstrumentView
from tests.unit.api.conftest import READ, TRADE
from tests.unit.api.fakes import FakeFacade


def test_session_tells_the_page_which_scope_its_token_has(client: TestClient) -> None:
    assert client.get("/session", headers=TRADE).json() == {"scope": "trade"}
    assert client.get("/session", headers=READ).json() == {"scope": "read"}
    assert client.get("/session").status_code == 401


def test_instruments_is_empty_when_the_facade_does_not_know_them(client: TestClient) -> None:
    answer = client.get("/instruments", headers=READ)
    assert answer.status_code == 200 and answer.json() == []


class FacadeWithInstruments(FakeFacade):
    async def instruments(self) -> list[InstrumentView]:
        return [InstrumentView(symbol="BTCUSDT", market="spot", base_asset="BTC", quote_asset="USDT",
                               tick_size=Decimal("0.01"), step_size=Decimal("0.00001"))]


def test_instruments_lists_tick_and_step_as_decimal_strings(tokens: TokenAuthority) -> None:
    app = create_app(FacadeWithInstruments(), ApiSettings(ws_heartbeat_s=60), tokens=tokens)
    with TestClient(app) as client:
        [btc] = client.get("/instruments", headers=READ).json()
    assert btc == {"symbol": "BTCUSDT", "market": "spot", "base_asset": "BTC", "quote_asset": "USDT",
                   "tick_size": "0.01", "step_size": "0.00001"}


def test_the_chart_library_is_served_from_the_package_with_its_licence_under_the_csp(client: TestClient) -> None:
    library = client.get("/static/vendor/lightweight-charts/lightweight-charts.standalone.production.js")
    assert library.status_code == 200
    assert "Lightweight Charts" in library.text[:300]
    assert "Apache License" in client.get("/static/vendor/lightweight-charts/LICENSE").text
    page = client.get("/dashboard")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.js" in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text.replace('href="https://www.tradingview.com/"', "")), \
        "no CDN: every asset comes from the package (the only outside link is the chart's attribution)"
