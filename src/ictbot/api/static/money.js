// Money: the equity curve with its drawdown and daily P&L (one chart, three panes, with axes),
// the per-strategy table, and the open positions with live P&L and a close button (trade scope,
// after a confirmation).

import { api, post } from "./api.js";
import { CHART_COLORS } from "./chart.js";
import { day, money, pct, ratio, signClass, signed } from "./format.js";
import { el, emptyRow, priceOf, qtyOf, store } from "./store.js";

const LWC = window.LightweightCharts;
const $ = (id) => document.getElementById(id);
let equityChart = null, equitySeries = null, drawdownSeries = null, dailySeries = null;
let report = () => {};

export function initMoney(flash) {
  report = flash;
  equityChart = LWC.createChart($("equity"), {
    autoSize: true,
    layout: { attributionLogo: false, background: { type: "solid", color: CHART_COLORS.background }, textColor: CHART_COLORS.text,
      panes: { separatorColor: "#262c35" } },
    grid: { vertLines: { color: CHART_COLORS.grid }, horzLines: { color: CHART_COLORS.grid } },
    timeScale: { timeVisible: true, secondsVisible: false },
  });
  equitySeries = equityChart.addSeries(LWC.LineSeries, { color: "#4f8cff", lineWidth: 2, title: "equity",
    priceFormat: { type: "price", precision: 2, minMove: 0.01 } });
  drawdownSeries = equityChart.addSeries(LWC.AreaSeries, { lineColor: "#e5484d", topColor: "rgba(229,72,77,.05)",
    bottomColor: "rgba(229,72,77,.35)", lineWidth: 1, title: "drawdown %",
    priceFormat: { type: "percent", precision: 2 } }, 1);
  dailySeries = equityChart.addSeries(LWC.HistogramSeries, { title: "daily P&L",
    priceFormat: { type: "price", precision: 2, minMove: 0.01 } }, 2);
  const panes = equityChart.panes();
  if (panes.length === 3) { panes[0].setHeight(170); panes[1].setHeight(70); panes[2].setHeight(70); }
}

/** Equity points on whole seconds (the chart needs strictly increasing times; the last one wins). */
export function equitySeriesData(points) {
  const bySecond = new Map();
  for (const p of points) bySecond.set(Math.floor(p.time_ms / 1000), Number(p.equity));
  return [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
}

export function drawdownData(equity) {
  let peak = -Infinity;
  return equity.map(({ time, value }) => { peak = Math.max(peak, value); return { time, value: peak > 0 ? (value / peak - 1) * 100 : 0 }; });
}

export function dailyPnl(trades) {
  const byDay = new Map();
  for (const t of trades) {
    if (!t.closed_at_ms) continue;
    const start = Date.parse(day(t.closed_at_ms) + "T00:00:00Z") / 1000;
    byDay.set(start, (byDay.get(start) || 0) + Number(t.pnl));
  }
  return [...byDay.entries()].sort((a, b) => a[0] - b[0])
    .map(([time, value]) => ({ time, value, color: value >= 0 ? "rgba(38,162,105,.8)" : "rgba(229,72,77,.8)" }));
}

export async function loadMoney() {
  const [performance, trades] = await Promise.all([api("/analytics/performance"), api("/analytics/trades?limit=500")]);
  const equity = equitySeriesData(performance.equity_curve || []);
  equitySeries.setData(equity);
  drawdownSeries.setData(drawdownData(equity));
  dailySeries.setData(dailyPnl(trades.items));
  equityChart.timeScale().fitContent();
  $("equity").dataset.points = String(equity.length);
  renderStrategyTable(performance.by_strategy || {}, trades.items);
}

function renderStrategyTable(byStrategy, trades) {
  const fees = new Map();
  for (const t of trades) fees.set(t.strategy_id, (fees.get(t.strategy_id) || 0) + Number(t.fees || 0));
  const rows = Object.entries(byStrategy).sort().map(([id, m]) => {
    const tr = el("tr");
    tr.append(el("td", id), el("td", String(m.trades)), el("td", pct(m.win_rate)), el("td", ratio(m.profit_factor)),
      el("td", signed(m.total_pnl), signClass(m.total_pnl)), el("td", money(fees.get(id) || 0)),
      el("td", pct(m.max_drawdown)));
    return tr;
  });
  $("by-strategy").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(7, "no closed trades yet")]));
}

export function renderPositions(canTrade) {
  const rows = [...store.positions.values()].filter((p) => p.is_open).map((p) => {
    const tr = el("tr");
    tr.dataset.positionId = p.id;
    const targets = (p.take_profits || []).map((t) => priceOf(p.symbol, t)).join(" / ") || "–";
    tr.append(el("td", p.symbol), el("td", p.strategy_id), el("td", p.side, p.side === "LONG" ? "pos" : "neg"),
      el("td", qtyOf(p.symbol, p.qty)), el("td", priceOf(p.symbol, p.avg_entry)), el("td", priceOf(p.symbol, p.mark_price)),
      el("td", signed(p.unrealized_pnl), signClass(p.unrealized_pnl)), el("td", priceOf(p.symbol, p.stop_loss)),
      el("td", targets));
    const action = el("td", undefined, "trade-only");
    if (canTrade) {
      const close = el("button", "Close", "small warn close-position");
      close.addEventListener("click", () => confirmClose(p));
      action.append(close);
    }
    tr.append(action);
    return tr;
  });
  $("positions").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(10, "no open positions")]));
}

function confirmClose(position) {
  const dialog = $("confirm");
  $("confirm-text").textContent = `Close ${position.side} ${qtyOf(position.symbol, position.qty)} ${position.symbol} `
    + `(${position.strategy_id}) at market? Its stop and targets are canceled.`;
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "confirm") return;
    try {
      await post(`/positions/${encodeURIComponent(position.id)}/close`, { reason: "closed from the dashboard" });
      report(`close sent for ${position.symbol}`);
    } catch (err) { report("close failed: " + err.message, true); }
  };
  dialog.showModal();
}
