// ictbot dashboard: plain JS, no build step, no external resources. Data comes from the REST API
// and the /ws live feed; every value is inserted with textContent (never innerHTML).
"use strict";

const TOKEN_KEY = "ictbot.apiToken";
const SEQ_KEY = "ictbot.lastSeq";
const MAX_FEED = 50;
// A link of the form /dashboard#token=... (printed by `ictbot demo`) logs in directly. The fragment
// never leaves the browser; it is stored like a typed token and removed from the address bar.
(() => {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
})();
const state = { token: localStorage.getItem(TOKEN_KEY) || "", ws: null, lastSeq: 0, retry: 0,
  candles: [], orders: new Map(), positions: new Map(), equity: [], symbol: "", timeframe: "5m" };

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const num = (v, digits = 2) => (v === null || v === undefined || v === "") ? "–" : Number(v).toLocaleString(undefined, { maximumFractionDigits: digits });
const pct = (v) => (v === null || v === undefined) ? "–" : (v * 100).toFixed(1) + "%";
const time = (ms) => ms ? new Date(ms).toISOString().replace("T", " ").slice(5, 19) : "–";
const signClass = (v) => Number(v) > 0 ? "pos" : Number(v) < 0 ? "neg" : "";

// ---- REST --------------------------------------------------------------------------------------
async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { "Authorization": "Bearer " + state.token,
    "Content-Type": "application/json", ...(options.headers || {}) } });
  if (response.status === 401) { askToken("The token was refused."); throw new Error("unauthorized"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const reasons = body && body.errors ? body.errors.map((e) => e.field + ": " + e.reason).join("; ") : "";
    throw new Error((body && body.detail ? body.detail : response.statusText) + (reasons ? " (" + reasons + ")" : ""));
  }
  return body;
}

function flash(message) { $("footer").textContent = new Date().toLocaleTimeString() + " · " + message; }

// ---- token prompt ------------------------------------------------------------------------------
function askToken(error) {
  $("login-error").textContent = error || "";
  if (!$("login").open) $("login").showModal();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  state.token = $("token").value.trim();
  try {
    await api("/status");
    localStorage.setItem(TOKEN_KEY, state.token);
    $("login").close();
    start();
  } catch (err) { $("login-error").textContent = String(err.message || err); }
});
$("logout").addEventListener("click", () => { localStorage.removeItem(TOKEN_KEY); state.token = ""; askToken(); });

// ---- status and metrics --------------------------------------------------------------------------
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
    card("Equity", num(m.equity)), card("Daily P&L", num(m.daily_pnl), signClass(m.daily_pnl)),
    card("Total P&L", num(m.total_pnl), signClass(m.total_pnl)), card("Exposure", num(m.exposure)),
    card("Positions", String(status.active_positions)), card("Pending orders", String(status.pending_orders)),
    card("Trades", String(m.trades)), card("Win rate", pct(m.win_rate)), card("Profit factor", num(m.profit_factor)),
    card("Sharpe", num(m.sharpe)), card("Max drawdown", pct(m.max_drawdown)), card("Fill rate", pct(m.fill_rate)),
    card("Latency p99", m.latency_ms_p99 === null ? "–" : num(m.latency_ms_p99, 1) + " ms"),
    card("Strategies", status.enabled_strategies.join(", ") || "none"));
  const symbols = status.symbols || [];
  if (symbols.length && $("symbol").options.length !== symbols.length) {
    $("symbol").replaceChildren(...symbols.map((s) => el("option", s)));
    if (!state.symbol) { state.symbol = symbols[0]; loadCandles(); }
  }
}

function renderMetrics(m) {
  // live metric messages only refresh the numbers; a status poll refreshes the rest
  api("/status").then(renderStatus).catch(() => {});
  void m;
}

// ---- positions and orders ------------------------------------------------------------------------
function renderPositions() {
  const rows = [...state.positions.values()].filter((p) => p.is_open).map((p) => {
    const tr = el("tr");
    const close = el("button", "Close", "small warn");
    close.addEventListener("click", async () => {
      if (!confirm("Close " + p.symbol + " at market?")) return;
      try { await api("/positions/" + encodeURIComponent(p.id) + "/close", { method: "POST", body: "{}" }); flash("close sent for " + p.symbol); }
      catch (err) { flash("close failed: " + err.message); }
    });
    tr.append(el("td", p.symbol), el("td", p.side, p.side === "LONG" ? "pos" : "neg"), el("td", num(p.qty, 6)),
      el("td", num(p.avg_entry, 6)), el("td", num(p.mark_price, 6)), el("td", num(p.unrealized_pnl), signClass(p.unrealized_pnl)),
      el("td", num(p.stop_loss, 6)));
    const action = el("td"); action.append(close); tr.append(action);
    return tr;
  });
  $("positions").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(8, "no open positions")]));
}

function renderOrders() {
  const orders = [...state.orders.values()].sort((a, b) => b.updated_at_ms - a.updated_at_ms).slice(0, 20);
  const rows = orders.map((o) => {
    const tr = el("tr");
    tr.append(el("td", time(o.updated_at_ms)), el("td", o.symbol), el("td", o.side, o.side === "BUY" ? "pos" : "neg"),
      el("td", o.type), el("td", o.status), el("td", num(o.quantity, 6)), el("td", num(o.filled_qty, 6)),
      el("td", num(o.average_price || o.price || o.stop_price, 6)), el("td", o.strategy_id));
    return tr;
  });
  $("orders").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(9, "no orders yet")]));
}

function emptyRow(span, text) { const tr = el("tr"); const td = el("td", text, "muted"); td.colSpan = span; tr.append(td); return tr; }

function pushFeed(id, text, cls, ms) {
  const li = el("li"); li.append(el("span", time(ms), "time"), el("span", text, cls || ""));
  const list = $(id); list.prepend(li);
  while (list.children.length > MAX_FEED) list.lastChild.remove();
}

// ---- charts (canvas, drawn by hand) --------------------------------------------------------------
function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  canvas.width = width * ratio; canvas.height = height * ratio;
  const ctx = canvas.getContext("2d"); ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui"; ctx.fillStyle = "#7d8794";
  return { ctx, width, height };
}

function drawCandles() {
  const { ctx, width, height } = prepare($("candles"));
  const data = state.candles.slice(-150);
  if (!data.length) { ctx.fillText("no candles", 10, 20); return; }
  const pad = { l: 8, r: 70, t: 10, b: 22 };
  const highs = data.map((c) => +c.high), lows = data.map((c) => +c.low);
  const hi = Math.max(...highs), lo = Math.min(...lows), span = (hi - lo) || 1;
  const y = (v) => pad.t + (hi - v) / span * (height - pad.t - pad.b);
  const step = (width - pad.l - pad.r) / data.length, body = Math.max(1, step * 0.6);
  ctx.strokeStyle = "#262c35";
  for (let i = 0; i <= 4; i++) {
    const v = lo + span * i / 4, yy = y(v);
    ctx.beginPath(); ctx.moveTo(pad.l, yy); ctx.lineTo(width - pad.r, yy); ctx.stroke();
    ctx.fillText(num(v, 4), width - pad.r + 6, yy + 4);
  }
  data.forEach((c, i) => {
    const x = pad.l + i * step + step / 2, up = +c.close >= +c.open;
    ctx.strokeStyle = ctx.fillStyle = up ? "#26a269" : "#e5484d";
    ctx.beginPath(); ctx.moveTo(x, y(+c.high)); ctx.lineTo(x, y(+c.low)); ctx.stroke();
    const top = y(Math.max(+c.open, +c.close)), h = Math.max(1, Math.abs(y(+c.open) - y(+c.close)));
    ctx.fillRect(x - body / 2, top, body, h);
  });
  ctx.fillStyle = "#7d8794";
  ctx.fillText(time(data[0].open_time_ms), pad.l, height - 6);
  ctx.fillText(time(data[data.length - 1].open_time_ms), width - pad.r - 90, height - 6);
  for (const p of state.positions.values()) {   // entry and stop of open positions on this symbol
    if (!p.is_open || p.symbol !== state.symbol) continue;
    [[p.avg_entry, "#4f8cff"], [p.stop_loss, "#e5484d"]].forEach(([v, color]) => {
      if (v === null || +v < lo || +v > hi) return;
      ctx.setLineDash([4, 4]); ctx.strokeStyle = color;
      ctx.beginPath(); ctx.moveTo(pad.l, y(+v)); ctx.lineTo(width - pad.r, y(+v)); ctx.stroke(); ctx.setLineDash([]);
    });
  }
}

function drawEquity() {
  const { ctx, width, height } = prepare($("equity"));
  const points = state.equity;
  if (points.length < 2) { ctx.fillText("equity curve appears after two closed trades", 10, 20); return; }
  const values = points.map((p) => +p.equity), hi = Math.max(...values), lo = Math.min(...values), span = (hi - lo) || 1;
  const x = (i) => 8 + i / (points.length - 1) * (width - 78), y = (v) => 10 + (hi - v) / span * (height - 30);
  ctx.strokeStyle = "#4f8cff"; ctx.lineWidth = 2; ctx.beginPath();
  values.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v)))); ctx.stroke(); ctx.lineWidth = 1;
  ctx.fillText(num(hi), width - 64, 14); ctx.fillText(num(lo), width - 64, height - 16);
}

// ---- loading -------------------------------------------------------------------------------------
async function loadCandles() {
  if (!state.symbol) return;
  try {
    state.candles = await api("/candles?symbol=" + encodeURIComponent(state.symbol) + "&timeframe=" + state.timeframe + "&limit=150");
  } catch (err) { state.candles = []; flash("candles: " + err.message); }
  drawCandles();
}

async function loadAll() {
  const [status, positions, orders, perf] = await Promise.all([
    api("/status"), api("/positions"), api("/orders?limit=20"), api("/analytics/performance")]);
  renderStatus(status);
  state.positions = new Map(positions.map((p) => [p.id, p]));
  state.orders = new Map(orders.items.map((o) => [o.client_order_id, o]));
  state.equity = perf.equity_curve;
  renderPositions(); renderOrders(); drawEquity(); drawCandles();
}

// ---- live feed -----------------------------------------------------------------------------------
function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  state.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ action: "auth", token: state.token }));
  ws.onmessage = (event) => handle(JSON.parse(event.data));
  ws.onclose = (event) => {
    $("conn").className = "dot off";
    if (event.code === 4401) { askToken("The live feed refused the token."); return; }
    const delay = Math.min(30000, 500 * 2 ** state.retry++);
    setTimeout(connect, delay);
  };
}

function handle(msg) {
  if (msg.seq) { state.lastSeq = msg.seq; sessionStorage.setItem(SEQ_KEY, String(msg.seq)); }
  switch (msg.type) {
    case "welcome":
      $("conn").className = "dot on"; state.retry = 0;
      // first connection: replay recent signals and alerts; reconnection: resume everything missed
      if (!state.lastSeq) state.ws.send(JSON.stringify({ action: "subscribe", types: ["signal", "alert"], since_seq: 0, id: "history" }));
      state.ws.send(JSON.stringify({ action: "subscribe", types: ["signal", "order", "position", "metric", "alert", "config", "candle"],
        since_seq: state.lastSeq || undefined, id: "sub" }));
      break;
    case "ack": if (msg.id === "sub" && msg.data && msg.data.gap) loadAll().catch(() => {}); break;
    case "order": state.orders.set(msg.data.order.client_order_id, msg.data.order); renderOrders(); break;
    case "position": {
      const p = msg.data.position; state.positions.set(p.id, p); renderPositions(); drawCandles();
      if (msg.data.event === "closed") api("/analytics/performance").then((perf) => { state.equity = perf.equity_curve; drawEquity(); }).catch(() => {});
      break;
    }
    case "signal": pushFeed("signals", `${msg.data.strategy_id} ${msg.data.direction} ${msg.data.symbol} SL ${msg.data.stop_loss} TP ${(msg.data.take_profits || []).join("/")}`, msg.data.direction === "LONG" ? "pos" : "neg", msg.timestamp); break;
    case "alert": pushFeed("alerts", `[${msg.data.source}] ${msg.data.message}`, msg.data.level, msg.timestamp); break;
    case "config": pushFeed("alerts", `config v${msg.data.version} (${msg.data.section}) updated`, "info", msg.timestamp); break;
    case "metric": renderMetrics(msg.data); break;
    case "candle": {
      const c = msg.data;
      if (c.symbol !== state.symbol || c.timeframe !== state.timeframe) break;
      const last = state.candles[state.candles.length - 1];
      if (last && last.open_time_ms === c.open_time_ms) state.candles[state.candles.length - 1] = c; else state.candles.push(c);
      drawCandles(); break;
    }
    case "error": flash("feed: " + msg.error.message); break;
    default: break;
  }
}

// ---- controls ------------------------------------------------------------------------------------
$("halt").addEventListener("click", async () => {
  const reason = prompt("Halt trading: reason?", "manual halt from dashboard");
  if (reason === null) return;
  try { renderStatus({ ...(await api("/status")), trading_state: (await api("/trading/halt", { method: "POST", body: JSON.stringify({ reason }) })).state }); flash("trading halted"); }
  catch (err) { flash("halt failed: " + err.message); }
});
$("resume").addEventListener("click", async () => {
  try { await api("/trading/resume", { method: "POST" }); renderStatus(await api("/status")); flash("trading resumed"); }
  catch (err) { flash("resume failed: " + err.message); }
});
$("symbol").addEventListener("change", (e) => { state.symbol = e.target.value; loadCandles(); });
$("timeframe").addEventListener("change", (e) => { state.timeframe = e.target.value; loadCandles(); });
window.addEventListener("resize", () => { drawCandles(); drawEquity(); });

let started = false;
function start() {
  if (started) { loadAll().catch((err) => flash(err.message)); return; }
  started = true;
  loadAll().catch((err) => flash(err.message));
  connect();
  setInterval(() => api("/status").then(renderStatus).catch(() => {}), 15000);
}

if (state.token) start(); else askToken();
