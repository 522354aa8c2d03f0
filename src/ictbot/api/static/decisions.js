// Decisions: every signal the strategies produced, with what risk made of it (accepted, rejected
// with its reasons, executed once its entry filled) and the strategy's own "why". A row jumps the
// chart to that signal's candle.

import { api } from "./api.js";
import { time } from "./format.js";
import { el, emptyRow, priceOf, store } from "./store.js";

const MAX_ROWS = 100;
const $ = (id) => document.getElementById(id);
let onJump = () => {};

export function initDecisions(jump) { onJump = jump; $("signal-filter").addEventListener("change", renderSignals); }

/** Entries of the journal (GET /signals): status and risk's reasons. */
export async function loadSignals() {
  const rows = await api("/signals?limit=200");
  for (const s of rows) merge(s.signal_id, { ...s, known: true });
  renderSignals();
}

/** A live `signal` message: the strategy's reasons and targets (the journal has no "why"). */
let reloadTimer = null;

/** At most one GET /signals per second while signals stream in (the replay runs at up to 6000x). */
export function reloadSignalsSoon() {
  if (reloadTimer !== null) return;
  reloadTimer = setTimeout(() => { reloadTimer = null; loadSignals().catch(() => {}); }, 1000);
}

export function onSignalMessage(data) {
  merge(data.id, { signal_id: data.id, time_ms: data.time, strategy_id: data.strategy_id, symbol: data.symbol,
    direction: data.direction, why: data.reason || [], take_profits: data.take_profits || [],
    entry_price: data.entry_price ?? data.reference_price, stop_loss: data.stop_loss, timeframe: data.timeframe });
}

function merge(id, fields) {
  const known = store.signals.get(id) || {};
  const next = { ...known };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined && value !== null) next[key] = value;
  store.signals.set(id, next);
}

export function statusOf(signal) {
  const executed = [...store.orders.values()].some((o) => o.signal_id === signal.signal_id && o.leg === "ENTRY"
    && Number(o.filled_qty) > 0);
  if (executed) return "executed";
  if (signal.accepted === true) return "accepted";
  if (signal.accepted === false) return "rejected";
  return "pending";
}

export function renderSignals() {
  const filter = $("signal-filter").value;
  const rows = [...store.signals.values()]
    .map((s) => ({ ...s, status: statusOf(s) }))
    .filter((s) => filter === "all" || s.status === filter)
    .sort((a, b) => b.time_ms - a.time_ms)
    .slice(0, MAX_ROWS)
    .map(signalRow);
  $("signals").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(7, "no signals yet")]));
  const rejected = [...store.signals.values()].filter((s) => s.accepted === false).length;
  $("signal-count").textContent = `${store.signals.size} signals · ${rejected} rejected`;
}

function signalRow(s) {
  const tr = el("tr", undefined, "clickable status-" + s.status);
  tr.dataset.signalId = s.signal_id;
  tr.dataset.status = s.status;
  tr.title = "show this candle on the chart";
  tr.addEventListener("click", () => onJump(s.symbol, s.time_ms));
  const targets = (s.take_profits || []).map((t) => priceOf(s.symbol, t)).join(" / ");
  const levels = `entry ${priceOf(s.symbol, s.entry_price)} · SL ${priceOf(s.symbol, s.stop_loss)}` + (targets ? ` · TP ${targets}` : "");
  const status = el("td"); status.append(el("span", s.status, "pill " + s.status));
  const reasons = el("td", undefined, "reasons");
  if (s.status === "rejected") reasons.append(el("div", (s.reasons || []).join("; ") || "rejected", "reason neg"));
  if (s.why && s.why.length) reasons.append(el("div", s.why.join("; "), "why muted"));
  tr.append(el("td", time(s.time_ms)), el("td", s.strategy_id), el("td", s.symbol),
    el("td", s.direction, s.direction === "LONG" ? "pos" : "neg"), status, el("td", levels, "levels"), reasons);
  return tr;
}
