"""The dashboard in real headless Chromium against ``ictbot demo`` on the simulator.

What a user sees and does: the chart draws candles, the ICT overlays and the bot's fills; a position
closes from the page with the trade token, and the read token gets no such control; a strategy
toggle reaches ``GET /strategies``; a rejected signal shows the risk engine's reason; the page fits a
phone. The demo runs at 6000x, so each wait below is for the bot's own activity, bounded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.browser.conftest import LAPTOP_VIEWPORT, Demo
from tests.unit.api.test_backtests_routes import RESULT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SYMBOL = "ETHUSDT"  # the second symbol: the page must not simply show the first one


def open_manual_position(demo: Demo, symbol: str = SYMBOL) -> dict[str, Any]:
    """A market buy through the API (it passes the risk engine); stop and target far enough away
    that the replay at 6000x does not close it during the test."""
    candles = httpx.get(f"{demo.url}/candles", params={"symbol": symbol, "limit": 1},
                        headers=demo.headers(), timeout=10).json()
    close = Decimal(candles[-1]["close"])
    order = {"symbol": symbol, "side": "BUY", "type": "MARKET", "stop_loss": str(round(close * Decimal("0.8"), 2)),
             "take_profits": [str(round(close * Decimal("1.6"), 2))], "note": "browser test"}
    answer = httpx.post(f"{demo.url}/orders", json=order, headers=demo.headers(), timeout=10)
    for _ in range(3):
        if answer.status_code != 409:
            break
        if "trading state" in answer.text:
            # the bot's own losing streak can trip a breaker in the first minutes; the test needs entries
            httpx.post(f"{demo.url}/trading/resume", headers=demo.headers(), timeout=10)
        elif "max open positions" in answer.text:
            # the demo's strategies trade this symbol too and may hold its one allowed position
            close_positions_on(demo, symbol)
        else:
            break
        answer = httpx.post(f"{demo.url}/orders", json=order, headers=demo.headers(), timeout=10)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def open_positions(demo: Demo) -> dict[str, dict[str, Any]]:
    rows = httpx.get(f"{demo.url}/positions", headers=demo.headers(), timeout=10).json()
    return {p["id"]: p for p in rows}


def close_positions_on(demo: Demo, symbol: str) -> None:
    """Closes the bot's own open positions on ``symbol`` and waits until the books show none."""
    for position_id, position in open_positions(demo).items():
        if position["symbol"] == symbol:
            httpx.post(f"{demo.url}/positions/{position_id}/close", headers=demo.headers(), timeout=10)
    deadline = time.monotonic() + 20
    while any(p["symbol"] == symbol for p in open_positions(demo).values()) and time.monotonic() < deadline:
        time.sleep(0.2)


def load(page: Any, demo: Demo, scope: str) -> None:
    """Sign in through the login link; a fresh document each time (a link that differs only in its
    #fragment would not reload a page already showing the dashboard)."""
    page.goto("about:blank")
    page.goto(demo.dashboard(scope))
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)


@pytest.fixture(scope="class")
def trade_page(browser: Any, demo: Demo, artifacts_dir: Path) -> Iterator[Any]:
    """One dashboard signed in with the trade token, shared by the tests of a class (each page load
    costs seconds while the demo replays at 6000x) and closed after them."""
    yield from _signed_in(browser, demo, "trade", artifacts_dir)


@pytest.fixture(scope="class")
def read_page(browser: Any, demo: Demo, artifacts_dir: Path) -> Iterator[Any]:
    yield from _signed_in(browser, demo, "read", artifacts_dir)


def _signed_in(browser: Any, demo: Demo, scope: str, artifacts_dir: Path) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP_VIEWPORT)
    context.set_default_timeout(30_000)  # generous: CI machines are shared, and the demo replays at 6000x
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.page_errors = errors
    try:
        yield page
    finally:
        page.screenshot(path=str(artifacts_dir / f"dashboard-{scope}.png"), full_page=True)
        context.close()


def overlays(page: Any) -> dict[str, int]:
    return dict(json.loads(page.get_attribute("#chart", "data-overlays")))


class TestWithTheTradeToken:
    def test_chart_draws_candles_ict_overlays_fills_and_closes_a_position_with_the_trade_token(
        self, trade_page: Any, demo: Demo, artifacts_dir: Path
    ) -> None:
        page = trade_page
        order = open_manual_position(demo)
        position_id = order["position_id"]
        load(page, demo, "trade")
        assert page.get_attribute("body", "data-scope") == "trade"
        page.select_option("#symbol", SYMBOL)
        page.wait_for_function("() => Number(document.querySelector('#chart').dataset.markers) > 0")
        assert int(page.get_attribute("#chart", "data-candles")) >= 100
        drawn = overlays(page)
        assert drawn["fvg"] >= 1 and drawn["order_block"] >= 1 and drawn["liquidity"] >= 1, drawn
        assert drawn["trades"] >= 1, "the manual buy's fill is a marker on the chart"
        assert int(page.get_attribute("#chart", "data-price-lines")) >= 3, "entry, stop and target of the open position"
        page.screenshot(path=str(artifacts_dir / "dashboard-market.png"))
        assert page.page_errors == [], page.page_errors

        row = page.locator(f"#positions tr[data-position-id='{position_id}']")
        entry = Decimal(open_positions(demo)[position_id]["avg_entry"])
        assert row.locator("td").nth(4).inner_text() == f"{entry:,.2f}", "prices are rounded to the 0.01 tick"
        row.locator("button.close-position").click()
        assert page.locator("#confirm").is_visible()
        page.click("#confirm-ok")
        page.wait_for_selector(f"#positions tr[data-position-id='{position_id}']", state="detached", timeout=20_000)
        assert position_id not in open_positions(demo)

    def test_a_strategy_toggle_takes_effect_and_a_rejected_signal_shows_its_reason(
        self, trade_page: Any, demo: Demo
    ) -> None:
        page = trade_page
        if page.get_attribute("body", "data-ready") != "true":  # run alone (-k): sign in first
            load(page, demo, "trade")

        def enabled() -> bool:
            rows = httpx.get(f"{demo.url}/strategies", headers=demo.headers("read"), timeout=10).json()
            return bool(next(s for s in rows if s["id"] == "strategy_b")["enabled"])

        assert enabled()
        page.click("#strategies tr[data-strategy-id='strategy_b'] button.strategy-toggle")
        page.wait_for_selector("#strategies tr[data-strategy-id='strategy_b'] .pill:text('off')")
        assert not enabled()
        page.click("#strategies tr[data-strategy-id='strategy_b'] button.strategy-toggle")
        page.wait_for_selector("#strategies tr[data-strategy-id='strategy_b'] .pill:text('on')")
        assert enabled()

        page.select_option("#signal-filter", "rejected")
        row = page.locator("#signals tr[data-status='rejected']").first
        row.wait_for(timeout=30_000)
        signal_id = row.get_attribute("data-signal-id")
        journal = httpx.get(f"{demo.url}/signals", params={"rejected_only": "true", "limit": 500},
                            headers=demo.headers("read"), timeout=10).json()
        reasons = next(s["reasons"] for s in journal if s["signal_id"] == signal_id)
        assert row.locator(".reason").inner_text() == "; ".join(reasons)


    def test_a_bad_parameter_gets_the_servers_reason_beside_its_field(self, trade_page: Any, demo: Demo) -> None:
        page = trade_page
        if page.get_attribute("body", "data-ready") != "true":
            load(page, demo, "trade")
        row = "#strategies tr[data-strategy-id='strategy_a']"
        page.click(f"{row} button:text('Parameters')")
        form = page.locator(f"{row} + tr.param-row form")
        form.locator("input[name='risk_per_trade_pct']").fill("50")  # percent of equity, at most 10
        error = form.locator(".field[data-field='risk_per_trade_pct'] .field-error")
        page.wait_for_function("(e) => e.textContent.length > 0", arg=error.element_handle())
        assert "less than or equal to 10" in error.inner_text()
        rows = httpx.get(f"{demo.url}/strategies", headers=demo.headers("read"), timeout=10).json()
        assert next(s for s in rows if s["id"] == "strategy_a")["risk_per_trade_pct"] != "50", "validated, not applied"


    def test_a_backtest_started_from_the_page_shows_progress_to_100_and_opens_with_its_trades(
        self, trade_page: Any, demo: Demo, artifacts_dir: Path
    ) -> None:
        page = trade_page
        if page.get_attribute("body", "data-ready") != "true":
            load(page, demo, "trade")
        form = page.locator("#backtest-run")
        form.scroll_into_view_if_needed()
        form.locator("input[name='strategy']").fill("s1_ema_cross")  # crosses often: the result has trades
        form.locator("select[name='symbol']").select_option(SYMBOL)
        assert form.locator("input[name='start']").input_value(), "the chart's candles are the default range"
        form.locator("input[name='end']").fill("2020-01-01T00:00")
        form.locator("button").click()
        error = form.locator(".field[data-field='end_ms'] .field-error")
        page.wait_for_function("(e) => e.textContent.length > 0", arg=error.element_handle())
        assert "end is not after start" in error.inner_text()

        range_ = page.evaluate("async () => (await import('/static/market.js')).loadedRange()")
        form.locator("input[name='end']").fill(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(range_["end"] / 1000)))
        form.locator("button").click()
        done = page.locator("#backtest-jobs tr[data-state='done']").first
        done.wait_for(timeout=120_000)
        assert done.get_attribute("data-percent") == "100"
        assert done.locator("progress").evaluate("(bar) => bar.value") == 100
        name = page.locator("#backtest-detail").get_attribute("data-name", timeout=30_000)
        page.wait_for_function("() => !document.querySelector('#backtest-detail').hidden")
        assert name is not None and (demo.reports / name).is_file(), "the result is in the --reports folder"
        detail = httpx.get(f"{demo.url}/backtests/{name}", headers=demo.headers("read"), timeout=10).json()
        assert detail["summary"]["strategy"] == "s1_ema_cross" and detail["summary"]["symbols"] == [SYMBOL]
        assert len(detail["trades"]) >= 1
        shown = page.locator("#backtest-trades tbody tr")
        assert shown.count() == len(detail["trades"][-500:])
        assert shown.first.locator("td").nth(1).inner_text() == SYMBOL
        assert page.locator(f"#backtests tr[data-name='{name}']").count() == 1, "listed with the other results"
        page.locator("#backtests-panel").screenshot(path=str(artifacts_dir / "dashboard-backtest-run.png"))

    def test_a_clicked_signal_shows_the_zones_as_of_its_candle_and_goes_back_to_live(
        self, trade_page: Any, demo: Demo, artifacts_dir: Path
    ) -> None:
        page = trade_page
        if page.get_attribute("body", "data-ready") != "true":
            load(page, demo, "trade")
        page.select_option("#signal-filter", "all")
        row = page.locator("#signals tbody tr[data-signal-id]").last  # an older one: the live picture moved on
        row.wait_for(timeout=30_000)
        signal_id = row.get_attribute("data-signal-id")
        journal = httpx.get(f"{demo.url}/signals", params={"limit": 500}, headers=demo.headers("read"),
                            timeout=10).json()
        signal = next(s for s in journal if s["signal_id"] == signal_id)
        row.click()
        page.wait_for_selector("#chart[data-as-of]")
        assert page.locator("#as-of").is_visible()
        past = httpx.get(f"{demo.url}/indicators/at", params={"symbol": signal["symbol"], "at": signal["time_ms"]},
                         headers=demo.headers("read"), timeout=30).json()
        assert int(page.get_attribute("#chart", "data-as-of")) == past["time_ms"] == signal["time_ms"]
        assert page.input_value("#symbol") == signal["symbol"]
        drawn = overlays(page)
        assert sum(drawn.values()) > 0, drawn
        # shapes are placed at their own time: a zone born at a bar's open starts at that bar's left edge
        placed = page.evaluate("""() => { const c = ictbotChart, i = c.times.length - 20, s = c.chart.timeScale();
            return [c.zones.xOf(c.times[i], 9999), (s.logicalToCoordinate(i - 1) + s.logicalToCoordinate(i)) / 2]; }""")
        assert placed[1] > 0 and abs(placed[0] - placed[1]) < 0.5, placed
        if any(w.endswith("_kz") for w in past["active_window_bounds"]):
            assert drawn["killzone"] >= 1, "the killzone in progress at that candle is shaded"
        page.locator("#market").screenshot(path=str(artifacts_dir / "dashboard-as-of.png"))
        page.click("#back-live")
        page.wait_for_selector("#chart:not([data-as-of])")
        assert not page.locator("#as-of").is_visible()


class TestWithTheReadToken:
    def test_the_read_token_gets_no_controls_and_cannot_close_a_position(self, read_page: Any, demo: Demo) -> None:
        page = read_page
        position_id = open_manual_position(demo)["position_id"]
        try:
            load(page, demo, "read")
            assert page.get_attribute("body", "data-scope") == "read"
            row = page.locator(f"#positions tr[data-position-id='{position_id}']")
            row.wait_for()
            assert row.locator("button.close-position").count() == 0
            for control in ("#halt", "#resume", "#emergency", ".strategy-toggle"):
                assert not page.locator(control).first.is_visible(), control
            # the page's own request with this token, as a tampered page would send it: refused
            status = page.evaluate(
                """async (id) => (await fetch(`/positions/${id}/close`, {method: "POST", body: "{}",
                     headers: {"Authorization": "Bearer " + sessionStorage.getItem("ictbot.apiToken"),
                               "Content-Type": "application/json"}})).status""", position_id)
            assert status == 403
            assert position_id in open_positions(demo)
        finally:
            httpx.post(f"{demo.url}/positions/{position_id}/close", headers=demo.headers(), timeout=10)

    def test_a_backtest_result_from_the_reports_folder_opens_with_its_trades(self, read_page: Any, demo: Demo) -> None:
        page = read_page
        (demo.reports / "s2_fvg_btc.json").write_text(json.dumps(RESULT))
        load(page, demo, "read")
        page.click("#backtests tr[data-name='s2_fvg_btc.json']")
        page.wait_for_function("() => Number(document.querySelector('#backtest-equity').dataset.points) > 0")
        assert page.locator("#backtest-trades tbody tr").count() == len(RESULT["trades"])
        assert page.locator("#backtest-trades tbody tr td").last.inner_text() == "bullish_fvg"


def test_the_page_fits_a_phone(browser: Any, demo: Demo, artifacts_dir: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        phone = context.new_page()
        load(phone, demo, "read")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
        chart = phone.locator("#chart").bounding_box()
        assert chart is not None and 300 <= chart["width"] <= 390
        assert int(phone.get_attribute("#chart", "data-candles")) > 0
        phone.screenshot(path=str(artifacts_dir / "dashboard-phone.png"), full_page=True)
    finally:
        context.close()


def test_pure_helpers_round_to_the_tick_group_alerts_and_pick_the_active_symbol(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.url}/health")  # any page of the origin: the modules are imported, not the dashboard run
    result = page.evaluate("""async () => {
        const format = await import("/static/format.js");
        const alerts = await import("/static/alerts.js");
        const { store, mostRecentlyActiveSymbol } = await import("/static/store.js");
        store.symbols = ["BTCUSDT", "ETHUSDT"];
        store.signals = new Map([["s", { symbol: "BTCUSDT", time_ms: 1000 }]]);
        store.orders = new Map([["o", { symbol: "ETHUSDT", updated_at_ms: 2000 }]]);
        return {
          price: format.price("62684.321803875544", "0.01"),
          eth: format.price("4267.16000000", "0.01"),
          qty: format.price("0.00006410", "0.00001"),
          sameGroup: alerts.alertKey("monitoring", "p99 slippage 51.2 bps above 50.0 bps")
            === alerts.alertKey("monitoring", "p99 slippage 50.8 bps above 50.0 bps"),
          otherGroup: alerts.alertKey("monitoring", "dust written off")
            === alerts.alertKey("monitoring", "p99 slippage 50.8 bps above 50.0 bps"),
          dustGroup: alerts.alertKey("execution", "position ict-615e286d773dcf7e2534bb41: dust 0.00000363 BTC left")
            === alerts.alertKey("execution", "position ict-420ea8037ea5c030701cd56a: dust 0.00006410 BTC left"),
          active: mostRecentlyActiveSymbol(),
          openKillzone: (await import("/static/overlays.js")).overlayShapes({}, "5m", 0,
            { time_ms: 5000, active_window_bounds: { london_kz: [1000, 9000], london: [0, 9000] } }),
        };
    }""")
    assert result == {"price": "62,684.32", "eth": "4,267.16", "qty": "0.00006", "sameGroup": True,
                      "otherGroup": False, "dustGroup": True, "active": "ETHUSDT",
                      "openKillzone": [{"shape": "band", "type": "killzone", "id": "open-london_kz", "t0": 1000,
                                        "t1": 5000, "fill": "rgba(148,163,184,.1)", "label": "LONDON KZ (open)"}]}
