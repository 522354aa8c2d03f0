// ictbot dashboard: plain JS modules, no build step, no external resources. Data comes from the
// REST API and the /ws live feed; every value is inserted with textContent (never innerHTML).

import { addAlert } from "./alerts.js";
import { api, session, takeTokenFromLink } from "./api.js";
import { initBacktestRuns, prepareRunForm } from "./backtest_runs.js";
import { loadBacktests } from "./backtests.js";
import { initControl, loadHistory, loadRisk, loadStrategies, wireTradingButtons } from "./control.js";
import { initDecisions, loadSignals, onSignalMessage, reloadSignalsSoon, renderSignals } from "./decisions.js";
import { money, pct, ratio, signClass, signed, time } from "./format.js";
import { drawOverlays, drawPositionLines, initMarket, jumpTo, onCandle, setSymbols, showSymbol } from "./market.js";
import { initMoney, loadMoney, renderPositions } from "./money.js";
import { el, mostRecentlyActiveSymbol, priceOf, qtyOf, store, emptyRow } from "./store.js";

const SEQ_KEY = "ictbot.lastSeq";
const $ = (id) => document.getElementById(id);
const live = { ws: null, lastSeq: 0, retry: 0, started: false, moneyTimer: null };
const canTrade = () => session.scope === "trade";

function flash(message, isError) {
  const footer = $("footer");
  footer.textContent = new Date().toISOString().slice(11, 19) + " · " + message;
  footer.className = isError ? "error" : "muted";
}

// ---- login -------------------------------------------------------------------------------------
function askToken(error) {
  $("login-error").textContent = error || "";
  if (!$("login").open) $("login").showModal();
}
session.onUnauthorized = askToken;

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const previous = session.token;
  session.token = $("token").value.trim();
  try {
    await api("/session");
    session.save(session.token);
    $("token").value = "";
    $("login").close();
    if (live.ws) live.ws.close(4000, "new token");
    start();
  } catch (err) { session.token = previous; $("login-error").textContent = String(err.message || err); }
});
$("logout").addEventListener("click", () => askToken());

async function applyScope() {
  const answer = await api("/session");
  session.scope = answer.scope;
  document.body.classList.toggle("read-only", !canTrade());
  document.body.dataset.scope = session.scope;
  $("scope").textContent = canTrade() ? "trade" : "read-only";
  $("scope").title = canTrade() ? "this token can change state" : "this token can only read: controls are hidden; sign in with the trade token to use them";
}

// ---- status cards ----------------------------------------------------------------------------------
function card(label, value, cls) {
  const c = el("div", undefined, "card");
  c.append(el("div", label, "label"), el("div", value, "value " + (cls || "")));
  return c;
}

function renderStatus(status) {
  $("state").textContent = status.trading_state;
  $("state").className = "badge " + status.trading_state;
  $("state").title = status.trading_state_reason || "";
  $("mode").textContent = status.mode + " · up " + Math.round(status.uptime_s / 60) + " min";
  const m = status.metrics;
  $("cards").replaceChildren(
    card("Equity", money(m.equity)), card("Daily P&L", signed(m.daily_pnl), signClass(m.daily_pnl)),
    card("Total P&L", signed(m.total_pnl), signClass(m.total_pnl)), card("Exposure", money(m.exposure)),
    card("Positions", String(status.active_positions)), card("Pending orders", String(status.pending_orders)),
    card("Trades", String(m.trades)), card("Win rate", pct(m.win_rate)), card("Profit factor", ratio(m.profit_factor)),
    card("Max drawdown", pct(m.max_drawdown)), card("Signals", `${m.signals} · ${m.signals_rejected} rejected`),
    card("Strategies", status.enabled_strategies.join(", ") || "none"));
  store.symbols = status.symbols || [];
  setSymbols(store.symbols);
}

function renderOrders() {
  const orders = [...store.orders.values()].sort((a, b) => b.updated_at_ms - a.updated_at_ms).slice(0, 30);
  const rows = orders.map((o) => {
    const tr = el("tr");
    tr.append(el("td", time(o.updated_at_ms)), el("td", o.symbol), el("td", o.side, o.side === "BUY" ? "pos" : "neg"),
      el("td", o.leg), el("td", o.type), el("td", o.status), el("td", qtyOf(o.symbol, o.quantity)),
      el("td", qtyOf(o.symbol, o.filled_qty)), el("td", priceOf(o.symbol, o.average_price || o.price || o.stop_price)),
      el("td", o.strategy_id));
    return tr;
  });
  $("orders").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(10, "no orders yet")]));
}

// ---- loading -------------------------------------------------------------------------------------
async function loadAll() {
  const [status, instruments, positions, orders] = await Promise.all([
    api("/status"), api("/instruments"), api("/positions"), api("/orders?limit=500")]);
  store.instruments = new Map(instruments.map((i) => [i.symbol, i]));
  store.positions = new Map(positions.map((p) => [p.id, p]));
  store.orders = new Map(orders.items.map((o) => [o.client_order_id, o]));
  renderStatus(status);
  await loadSignals().catch((err) => flash("signals: " + err.message, true));
  if (!store.symbol) store.symbol = mostRecentlyActiveSymbol();
  await showSymbol(store.symbol);
  renderPositions(canTrade()); renderOrders(); renderSignals();
  // every panel loads even if another fails; the page is "ready" once all have answered
  const panels = await Promise.allSettled([loadMoney(), loadStrategies(), loadRisk(), loadHistory(), loadBacktests(),
    prepareRunForm()]);
  const failed = panels.find((p) => p.status === "rejected");
  if (failed) flash(failed.reason.message, true);
  document.body.dataset.ready = "true";
}

function refreshMoneySoon() {
  if (live.moneyTimer !== null) return;
  live.moneyTimer = setTimeout(() => { live.moneyTimer = null; loadMoney().catch(() => {}); }, 1500);
}

// ---- live feed -----------------------------------------------------------------------------------
function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  live.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ action: "auth", token: session.token }));
  ws.onmessage = (event) => handle(JSON.parse(event.data));
  ws.onclose = (event) => {
    $("conn").className = "dot off";
    if (live.ws !== ws) return;
    if (event.code === 4401) { askToken("The live feed refused the token."); return; }
    setTimeout(connect, Math.min(30000, 500 * 2 ** live.retry++));
  };
}

const HANDLERS = {
  welcome: () => {
    $("conn").className = "dot on"; live.retry = 0;
    // first connection: replay recent signals and alerts; reconnection: resume everything missed
    if (!live.lastSeq) live.ws.send(JSON.stringify({ action: "subscribe", types: ["signal", "alert"], since_seq: 0, id: "history" }));
    live.ws.send(JSON.stringify({ action: "subscribe", types: ["signal", "order", "position", "metric", "alert", "config", "candle"],
      since_seq: live.lastSeq || undefined, id: "sub" }));
  },
  ack: (msg) => { if (msg.id === "sub" && msg.data && msg.data.gap) loadAll().catch(() => {}); },
  order: (msg) => {
    store.orders.set(msg.data.order.client_order_id, msg.data.order);
    renderOrders(); renderSignals(); drawOverlays();
  },
  position: (msg) => {
    const p = msg.data.position; store.positions.set(p.id, p);
    renderPositions(canTrade()); drawPositionLines();
    if (msg.data.event === "closed") refreshMoneySoon();
  },
  signal: (msg) => { onSignalMessage(msg.data); renderSignals(); reloadSignalsSoon(); },
  alert: (msg) => addAlert(msg.data.level, msg.data.source, msg.data.message, msg.timestamp),
  config: (msg) => {
    addAlert("info", "config", `version ${msg.data.version} (${msg.data.section}) applied`, msg.timestamp);
    loadStrategies().catch(() => {}); loadHistory().catch(() => {});
  },
  metric: () => api("/status").then(renderStatus).catch(() => {}),
  candle: (msg) => onCandle(msg.data),
  error: (msg) => flash("feed: " + msg.error.message, true),
};

function handle(msg) {
  if (msg.seq) { live.lastSeq = msg.seq; sessionStorage.setItem(SEQ_KEY, String(msg.seq)); }
  const handler = HANDLERS[msg.type];
  if (handler) handler(msg);
}

// ---- start ---------------------------------------------------------------------------------------
async function start() {
  try { await applyScope(); } catch (err) { askToken(String(err.message || err)); return; }
  loadAll().catch((err) => flash(err.message, true));
  if (!live.started) {
    live.started = true;
    setInterval(() => api("/status").then(renderStatus).catch(() => {}), 15000);
  }
  live.lastSeq = 0;
  connect();
}

initMarket((message) => flash(message, true));
initDecisions(jumpTo);
initMoney(flash);
initControl(flash, canTrade);
initBacktestRuns(flash);
wireTradingButtons(() => api("/status").then(renderStatus).catch(() => {}));
takeTokenFromLink();
if (session.token) start(); else askToken();
