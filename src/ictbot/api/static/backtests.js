// Backtests: the results documents in the server's --reports folder; one opens with its metrics,
// equity curve, departures from live and trades (with each entry's "why" and exit reason).

import { api } from "./api.js";
import { CHART_COLORS } from "./chart.js";
import { money, ratio, signClass, signed, time } from "./format.js";
import { el, emptyRow, priceOf } from "./store.js";

const LWC = window.LightweightCharts;
const $ = (id) => document.getElementById(id);
const fixed = (v, places = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(places));
let curve = null, curveSeries = null;

export async function loadBacktests() {
  const list = await api("/backtests");
  $("backtests-folder").textContent = list.folder
    ? `${list.items.length} results in ${list.folder}` : "start the bot with --reports DIR to list backtest results here";
  const rows = list.items.map((b) => {
    const tr = el("tr", undefined, "clickable");
    tr.dataset.name = b.name;
    tr.addEventListener("click", () => openBacktest(b.name));
    tr.append(el("td", b.name), el("td", b.strategy), el("td", b.symbols.join(", ") + " " + b.timeframe),
      el("td", `${b.start_ms ? time(b.start_ms).slice(0, 5) : "?"} → ${b.end_ms ? time(b.end_ms).slice(0, 5) : "?"}`),
      el("td", String(b.trades)), el("td", fixed(b.win_rate_pct, 1) + "%"), el("td", ratio(b.profit_factor)),
      el("td", signed(b.net_pnl), signClass(b.net_pnl)), el("td", fixed(b.total_return_pct) + "%", signClass(b.total_return_pct)),
      el("td", fixed(b.max_drawdown_pct) + "%"), el("td", ratio(b.sharpe)));
    return tr;
  });
  $("backtests").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(11, "no results")]));
  $("backtest-errors").textContent = list.errors.length ? "not listed: " + list.errors.join("; ") : "";
}

/** Equity after each trade's exit: the initial equity plus the running sum of net P&L. */
export function tradeEquity(initial, trades) {
  let equity = Number(initial) || 0, last = -Infinity;
  const points = [];
  for (const t of [...trades].sort((a, b) => a.exit_time - b.exit_time)) {
    equity += Number(t.net_pnl ?? t.pnl);
    const second = Math.max(Math.floor(t.exit_time / 1000), last + 1);   // strictly increasing times
    points.push({ time: second, value: equity });
    last = second;
  }
  return points;
}

export async function openBacktest(name) {
  const detail = await api("/backtests/" + encodeURIComponent(name));
  const box = $("backtest-detail");
  box.hidden = false;
  box.dataset.name = name;
  const m = detail.metrics;
  $("backtest-title").textContent = `${name} · ${detail.summary.strategy} · ${detail.summary.symbols.join(", ")} ${detail.summary.timeframe}`;
  $("backtest-cards").replaceChildren(...[
    ["Trades", String(m.trades)], ["Win rate", fixed(m.win_rate_pct, 1) + "%"], ["Profit factor", ratio(m.profit_factor)],
    ["Net P&L", signed(m.net_pnl)], ["Fees", money(m.fees)], ["Return", fixed(m.total_return_pct) + "%"],
    ["Max drawdown", fixed(m.max_drawdown_pct) + "%"], ["Sharpe", ratio(m.sharpe)], ["Buy & hold", fixed(m.buy_and_hold_return) + "%"],
  ].map(([label, value]) => { const c = el("div", undefined, "card"); c.append(el("div", label, "label"), el("div", value, "value")); return c; }));
  $("backtest-deviations").replaceChildren(...detail.deviations_from_live.map((d) => el("li", Object.values(d).join(" · "))));
  drawCurve(tradeEquity(m.initial_equity, detail.trades));
  const rows = detail.trades.slice(-500).reverse().map((t) => {
    const tr = el("tr");
    const pnl = t.net_pnl ?? t.pnl;
    tr.append(el("td", String(t.number)), el("td", t.symbol), el("td", t.direction, t.direction === "LONG" ? "pos" : "neg"),
      el("td", time(t.entry_time)), el("td", priceOf(t.symbol, t.entry_price)), el("td", time(t.exit_time)), el("td", priceOf(t.symbol, t.exit_price)),
      el("td", signed(pnl), signClass(pnl)), el("td", t.exit_reason), el("td", (t.entry_reason || []).join("; "), "reasons muted"));
    return tr;
  });
  $("backtest-trades").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(10, "no trades")]));
  $("backtest-truncated").textContent = detail.trades_truncated || detail.trades.length > 500 ? "the newest 500 trades are shown" : "";
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}

function drawCurve(points) {
  if (!curve) {
    curve = LWC.createChart($("backtest-equity"), { autoSize: true,
      layout: { attributionLogo: false, background: { type: "solid", color: CHART_COLORS.background }, textColor: CHART_COLORS.text },
      grid: { vertLines: { color: CHART_COLORS.grid }, horzLines: { color: CHART_COLORS.grid } } });
    curveSeries = curve.addSeries(LWC.LineSeries, { color: "#4f8cff", lineWidth: 2, title: "equity" });
  }
  curveSeries.setData(points);
  curve.timeScale().fitContent();
  $("backtest-equity").dataset.points = String(points.length);
}
