// The market view: candles of one symbol and timeframe with the ICT overlays of the indicator
// engine, the bot's fills as markers and the open positions' entry, stop and targets as lines.

import { api } from "./api.js";
import { MarketChart } from "./chart.js";
import { OVERLAY_TYPES, overlayShapes, tradeMarkers } from "./overlays.js";
import { time } from "./format.js";
import { el, priceOf, store, tickDecimals, tickOf } from "./store.js";

const CANDLE_LIMIT = 500;
const INDICATOR_REFRESH_MS = 2000;   // at most one GET /indicators per 2 s while candles stream in
const $ = (id) => document.getElementById(id);

let chart = null;
let views = {};
let snapshot = {};   // the last indicator answer: time_ms and the bounds of the sessions in progress
let asOfMs = null;   // a clicked signal's candle close: the overlays are the picture as of then; null: live
let candles = [];
// Off until switched on (the choice is remembered in this browser): with every type on, the zones
// of four timeframes cover the candles.
const HIDDEN_BY_DEFAULT = ["ifvg", "breaker", "premium_discount", "htf"];
const hidden = new Set(JSON.parse(localStorage.getItem("ictbot.hiddenOverlays") || JSON.stringify(HIDDEN_BY_DEFAULT)));
let refreshTimer = null;
let onError = () => {};

export function initMarket(reportError) {
  onError = reportError;
  chart = new MarketChart($("chart"));
  window.ictbotChart = chart;   // a JS hook for tests and the console: ictbotChart.container.dataset
  const toggles = $("overlay-toggles");
  for (const [type, label] of OVERLAY_TYPES) {
    const box = el("input"); box.type = "checkbox"; box.checked = !hidden.has(type); box.dataset.type = type;
    box.addEventListener("change", () => {
      if (box.checked) hidden.delete(type); else hidden.add(type);
      localStorage.setItem("ictbot.hiddenOverlays", JSON.stringify([...hidden]));
      drawOverlays();
    });
    const labelEl = el("label", undefined, "toggle t-" + type); labelEl.append(box, el("span", label));
    toggles.append(labelEl);
  }
  $("symbol").addEventListener("change", (e) => { asOfMs = null; showSymbol(e.target.value); });
  $("back-live").addEventListener("click", backToLive);
  $("timeframe").addEventListener("change", (e) => { store.timeframe = e.target.value; loadMarket(); });
}

export function setSymbols(symbols) {
  const select = $("symbol");
  if (select.options.length === symbols.length) return;
  select.replaceChildren(...symbols.map((s) => el("option", s)));
  select.value = store.symbol;
}

export function showSymbol(symbol) {
  if (!symbol) return Promise.resolve();
  store.symbol = symbol;
  $("symbol").value = symbol;
  return loadMarket();
}

export async function loadMarket() {
  const symbol = store.symbol, timeframe = store.timeframe;
  if (!symbol) return;
  chart.setTick(tickOf(symbol), tickDecimals(symbol));
  try {
    const [rows, indicators] = await Promise.all([
      api(`/candles?symbol=${encodeURIComponent(symbol)}&timeframe=${timeframe}&limit=${CANDLE_LIMIT}`),
      api(indicatorsPath(symbol)).catch(() => ({ views: {} })),
    ]);
    if (symbol !== store.symbol || timeframe !== store.timeframe) return;   // the user moved on meanwhile
    candles = rows;
    setSnapshot(indicators);
    syncTimeframes(Object.keys(views));
    chart.setCandles(candles, timeframe);
    drawOverlays();
    drawPositionLines();
  } catch (err) { onError("chart: " + err.message); }
}

function syncTimeframes(available) {
  const select = $("timeframe");
  const wanted = [...new Set([...available, store.timeframe])];
  if ([...select.options].map((o) => o.value).join() === wanted.join()) return;
  select.replaceChildren(...wanted.map((tf) => el("option", tf)));
  select.value = store.timeframe;
}

export function drawOverlays() {
  if (!chart) return;
  const since = candles.length ? candles[0].open_time_ms : 0;
  let shapes = overlayShapes(views, store.timeframe, since, snapshot).filter((s) => !hidden.has(s.type));
  // a past picture: zones still open then end at that time (what came later is not part of it)
  if (asOfMs !== null && snapshot.time_ms) shapes = shapes.map((s) => (s.t1 === null ? { ...s, t1: snapshot.time_ms } : s));
  const fills = hidden.has("trades") ? [] : tradeMarkers([...store.orders.values()], store.symbol, (v) => priceOf(store.symbol, v));
  chart.setOverlays(shapes, fills);
  renderLegend();
}

function renderLegend() {
  const counts = JSON.parse(chart.container.dataset.overlays || "{}");
  for (const label of document.querySelectorAll("#overlay-toggles label")) {
    const type = label.querySelector("input").dataset.type;
    label.title = `${counts[type] || 0} drawn`;
  }
}

export function drawPositionLines() {
  if (!chart) return;
  const lines = [];
  for (const p of store.positions.values()) {
    if (!p.is_open || p.symbol !== store.symbol) continue;
    lines.push({ price: p.avg_entry, color: "#4f8cff", title: `${p.side} entry` });
    if (p.stop_loss !== null && p.stop_loss !== undefined) lines.push({ price: p.stop_loss, color: "#e5484d", title: "stop" });
    (p.take_profits || []).forEach((tp, i) => lines.push({ price: tp, color: "#26a269", title: `TP${i + 1}` }));
  }
  chart.setPositionLines(lines);
}

/** A live candle; on a base-timeframe close the overlays are refreshed (throttled). */
export function onCandle(candle) {
  if (candle.symbol !== store.symbol) return;
  if (candle.timeframe === store.timeframe) chart.updateCandle(candle);
  if (refreshTimer === null && asOfMs === null) {   // a past picture stays until "back to live"
    refreshTimer = setTimeout(async () => {
      refreshTimer = null;
      const symbol = store.symbol;
      try {
        const indicators = await api(`/indicators?symbol=${encodeURIComponent(symbol)}`);
        if (symbol === store.symbol && asOfMs === null) { setSnapshot(indicators); drawOverlays(); }
      } catch (err) { void err; }   // no snapshot yet (warm-up): the next candle tries again
    }, INDICATOR_REFRESH_MS);
  }
}

/** The chart's candles: first open and last close (ms), or null before any loaded. */
export function loadedRange() {
  if (!candles.length) return null;
  const step = candles.length > 1 ? candles[1].open_time_ms - candles[0].open_time_ms : 300e3;
  return { first: candles[0].open_time_ms, end: candles[candles.length - 1].open_time_ms + step };
}

function indicatorsPath(symbol) {
  const query = `symbol=${encodeURIComponent(symbol)}`;
  return asOfMs === null ? `/indicators?${query}` : `/indicators/at?${query}&at=${asOfMs}`;
}

function setSnapshot(indicators) {
  views = indicators.views || {};
  snapshot = indicators;
  showAsOf();
}

/** The "as of" state: a banner with the time and the way back, and `data-as-of` for tests. */
function showAsOf() {
  const banner = $("as-of");
  banner.hidden = asOfMs === null;
  if (asOfMs === null) { delete chart.container.dataset.asOf; return; }
  chart.container.dataset.asOf = String(snapshot.time_ms ?? asOfMs);
  $("as-of-time").textContent = time(snapshot.time_ms ?? asOfMs);
}

async function loadIndicators() {
  const symbol = store.symbol, wanted = asOfMs;
  try {
    const indicators = await api(indicatorsPath(symbol));
    if (symbol !== store.symbol || wanted !== asOfMs) return;
    setSnapshot(indicators);
  } catch (err) {
    setSnapshot({ views: {} });
    onError("indicators: " + err.message);
  }
  drawOverlays();
}

export function backToLive() {
  asOfMs = null;
  return loadIndicators();
}

/** Jump to a candle (a signal's): switch symbol if needed, scroll there and show the ICT picture as it
 * was when that candle closed (GET /indicators/at), not today's. */
export async function jumpTo(symbol, ms) {
  asOfMs = ms;
  if (symbol !== store.symbol) await showSymbol(symbol); else await loadIndicators();
  chart.showTime(ms);
  $("market").scrollIntoView({ behavior: "smooth", block: "start" });
}
