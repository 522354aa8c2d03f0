// The page's shared state: what the REST loads and the live feed keep up to date.

import { price, decimalsOf } from "./format.js";

export const store = {
  symbols: [],
  symbol: "",
  timeframe: "5m",
  instruments: new Map(),   // symbol -> { tick_size, step_size, ... }
  orders: new Map(),        // client_order_id -> OrderView
  positions: new Map(),     // id -> PositionView
  signals: new Map(),       // signal_id -> { ...SignalView, why, take_profits, status }
};

export const tickOf = (symbol) => (store.instruments.get(symbol) || {}).tick_size || null;
export const stepOf = (symbol) => (store.instruments.get(symbol) || {}).step_size || null;
export const priceOf = (symbol, value) => price(value, tickOf(symbol));
export const qtyOf = (symbol, value) => price(value, stepOf(symbol));
export const tickDecimals = (symbol) => decimalsOf(tickOf(symbol));

/** The symbol with the newest order, position or signal; else the first configured one. */
export function mostRecentlyActiveSymbol() {
  let best = null, bestTime = -1;
  const consider = (symbol, ms) => { if (symbol && store.symbols.includes(symbol) && ms > bestTime) { best = symbol; bestTime = ms; } };
  for (const o of store.orders.values()) consider(o.symbol, o.updated_at_ms || 0);
  for (const p of store.positions.values()) consider(p.symbol, p.closed_at_ms || p.opened_at_ms || 0);
  for (const s of store.signals.values()) consider(s.symbol, s.time_ms || 0);
  return best || store.symbols[0] || "";
}

export const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};

export function emptyRow(span, text) {
  const tr = el("tr");
  const td = el("td", text, "muted");
  td.colSpan = span;
  tr.append(td);
  return tr;
}
