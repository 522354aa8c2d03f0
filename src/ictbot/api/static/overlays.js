// Pure: the indicator engine's snapshot (GET /indicators) -> the shapes the market chart draws.
// Boxes (zones), lines (levels), bands (killzones, premium/discount) and markers (sweeps), each
// tagged with its overlay type so the page can toggle types and count what it drew.

export const OVERLAY_TYPES = [
  ["fvg", "FVG"], ["ifvg", "Inverse FVG"], ["order_block", "Order blocks"], ["breaker", "Breakers"],
  ["liquidity", "Liquidity"], ["sweep", "Sweeps"], ["structure", "BOS / CHoCH / MSS"], ["killzone", "Killzones"],
  ["premium_discount", "Premium / discount"], ["ote", "OTE"], ["prev_levels", "Prev. day / week"],
  ["htf", "Higher-TF zones"], ["trades", "Trades"],
];

// Zones and levels per type drawn at most (the nearest to the last close): 40 live FVGs on one chart
// hide the candles. Higher timeframes add at most HTF_PER_TYPE of each zone type each.
export const MAX_PER_TYPE = 5;
export const HTF_PER_TYPE = 2;
const TIMEFRAME_ORDER = ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w"];

const BULL = "38,162,105", BEAR = "229,72,77";
const ZONE_STYLE = {
  fvg: { label: "FVG", alpha: 0.2, colors: [BULL, BEAR] },
  ifvg: { label: "iFVG", alpha: 0.18, colors: ["79,140,255", "168,85,247"] },
  order_block: { label: "OB", alpha: 0.22, colors: ["20,184,166", "245,165,36"] },
  breaker: { label: "BRK", alpha: 0.18, colors: ["148,163,184", "244,114,182"] },
};
const ZONE_LISTS = { fvg: "fvgs", ifvg: "ifvgs", order_block: "order_blocks", breaker: "breakers" };
const STRUCTURE_KINDS = { bos: "BOS", choch: "CHoCH", mss: "MSS" };

const rgba = (rgb, alpha) => `rgba(${rgb},${alpha})`;
const isFiniteNumber = (v) => v !== null && v !== undefined && Number.isFinite(Number(v));

function nearest(items, close, priceOf, limit = MAX_PER_TYPE) {
  if (!isFiniteNumber(close)) return items.slice(-limit);
  return [...items].sort((a, b) => Math.abs(priceOf(a) - close) - Math.abs(priceOf(b) - close)).slice(0, limit);
}

function zoneBoxes(view, type, htfOf) {
  const style = ZONE_STYLE[type];
  const zones = (view[ZONE_LISTS[type]] || []).filter((z) => isFiniteNumber(z.top) && isFiniteNumber(z.bottom));
  const mid = (z) => (Number(z.top) + Number(z.bottom)) / 2;
  return nearest(zones, Number(view.close), mid).map((z) => {
    const rgb = style.colors[z.direction >= 0 ? 0 : 1];
    const htf = htfOf ? htfOf + " " : "";
    return { shape: "box", type: htfOf ? "htf" : type, id: z.id, t0: z.anchor_time, t1: null,
      top: Number(z.top), bottom: Number(z.bottom), fill: rgba(rgb, htfOf ? style.alpha / 6 : style.alpha),
      stroke: rgba(rgb, 0.7), dashed: Boolean(htfOf), label: htf + style.label + (z.direction >= 0 ? " +" : " −") };
  });
}

const LEVEL_NAMES = { "day:1": "PDH", "day:-1": "PDL", "week:1": "PWH", "week:-1": "PWL" };

function liquidityLines(view) {
  const levels = (view.liquidity || []).filter((l) => isFiniteNumber(l.level));
  const previous = levels.filter((l) => l.source === "day" || l.source === "week");
  const pools = nearest(levels.filter((l) => !previous.includes(l)), Number(view.close), (l) => Number(l.level));
  const line = (l, type, label, color, dashed) => ({ shape: "line", type, id: l.id, t0: l.confirm_time, t1: null,
    level: Number(l.level), color, dashed, label });
  return [
    ...pools.map((l) => line(l, "liquidity", (l.side > 0 ? "BSL " : "SSL ") + l.source, "rgba(245,165,36,.85)", false)),
    ...previous.map((l) => line(l, "prev_levels", LEVEL_NAMES[`${l.source}:${l.side > 0 ? 1 : -1}`] || l.source,
      "rgba(125,211,252,.9)", true)),
  ];
}

// One-off events drawn at most, the newest first (older ones are in the snapshot but would pile up).
const MAX_EVENTS = 8;

function eventShapes(view, sinceMs) {
  const shapes = [];
  const newest = [...(view.recent_events || [])].sort((a, b) => b.confirm_time - a.confirm_time);
  const taken = {};
  for (const e of newest) {
    taken[e.kind] = (taken[e.kind] || 0) + 1;
    if (taken[e.kind] > MAX_EVENTS) continue;
    if (e.confirm_time < sinceMs) continue;
    if (e.kind === "sweep" && isFiniteNumber(e.level)) {
      shapes.push({ shape: "marker", type: "sweep", id: e.id, t: e.confirm_time, price: Number(e.level),
        position: e.direction > 0 ? "aboveBar" : "belowBar", color: "#f5a524", marker: "circle", text: "sweep" });
    } else if (STRUCTURE_KINDS[e.kind] && isFiniteNumber(e.level)) {
      shapes.push({ shape: "line", type: "structure", id: e.id, t0: e.anchor_time, t1: e.confirm_time,
        level: Number(e.level), color: e.direction > 0 ? "rgba(95,211,141,.9)" : "rgba(255,138,142,.9)",
        dashed: true, label: STRUCTURE_KINDS[e.kind] });
    } else if (e.kind === "session_closed" && e.extra && String(e.extra.window || "").endsWith("_kz")) {
      shapes.push({ shape: "band", type: "killzone", id: e.id, t0: e.anchor_time, t1: e.confirm_time,
        fill: "rgba(148,163,184,.07)", label: String(e.extra.window).replace(/_kz$/, "").toUpperCase() + " KZ" });
    }
  }
  return shapes;
}

function rangeShapes(view) {
  const shapes = [];
  const leg = view.leg;
  const range = view.dealing_range;
  if (Array.isArray(range) && range.length === 2 && range.every(isFiniteNumber)) {
    const hi = Math.max(...range.map(Number)), lo = Math.min(...range.map(Number)), eq = (hi + lo) / 2;
    const t0 = leg && leg.a_time ? leg.a_time : null;
    shapes.push({ shape: "box", type: "premium_discount", id: "premium", t0, t1: null, top: hi, bottom: eq,
      fill: "rgba(229,72,77,.06)", stroke: null, label: "premium" });
    shapes.push({ shape: "box", type: "premium_discount", id: "discount", t0, t1: null, top: eq, bottom: lo,
      fill: "rgba(38,162,105,.06)", stroke: null, label: "discount" });
  }
  if (leg && isFiniteNumber(leg.ote_top) && isFiniteNumber(leg.ote_bottom)) {
    shapes.push({ shape: "box", type: "ote", id: leg.id, t0: leg.b_time, t1: null, top: Number(leg.ote_top),
      bottom: Number(leg.ote_bottom), fill: "rgba(250,204,21,.14)", stroke: "rgba(250,204,21,.6)", label: "OTE" });
  }
  return shapes;
}

/** Killzones still open at the snapshot's time: shaded from their start to that time, labelled open. */
export function openKillzones(bounds, timeMs) {
  return Object.entries(bounds || {})
    .filter(([window, range]) => window.endsWith("_kz") && Array.isArray(range) && range.length === 2)
    .map(([window, [start]]) => ({ shape: "band", type: "killzone", id: "open-" + window, t0: start, t1: timeMs,
      fill: "rgba(148,163,184,.1)", label: window.replace(/_kz$/, "").toUpperCase() + " KZ (open)" }));
}

export function higherTimeframes(views, timeframe) {
  const rank = TIMEFRAME_ORDER.indexOf(timeframe);
  return Object.keys(views).filter((tf) => TIMEFRAME_ORDER.indexOf(tf) > rank);
}

/**
 * Shapes for the chart of `timeframe` from a snapshot's `views` (timeframe -> view).
 * `sinceMs`: the first candle's open time (older one-off events are not drawn).
 * `snapshot`: its `active_window_bounds` and `time_ms` (killzones still open), when known.
 */
export function overlayShapes(views, timeframe, sinceMs, snapshot = {}) {
  const shapes = openKillzones(snapshot.active_window_bounds, snapshot.time_ms ?? null);
  const own = views[timeframe];
  if (own) {
    for (const type of Object.keys(ZONE_LISTS)) shapes.push(...zoneBoxes(own, type, null));
    shapes.push(...liquidityLines(own), ...eventShapes(own, sinceMs), ...rangeShapes(own));
  }
  for (const tf of higherTimeframes(views, timeframe)) {
    const view = { ...views[tf], close: own ? own.close : views[tf].close };
    for (const type of ["fvg", "order_block", "breaker"]) shapes.push(...zoneBoxes(view, type, tf).slice(0, HTF_PER_TYPE));
    if (!own) shapes.push(...liquidityLines(views[tf]).filter((s) => s.type === "prev_levels"));
  }
  return shapes;
}

/** Entry/exit markers from filled orders: BUY below the bar, SELL above. */
export function tradeMarkers(orders, symbol, formatPrice) {
  const legs = { ENTRY: "entry", STOP: "stop", TAKE_PROFIT: "target", EXIT: "exit" };
  return orders
    .filter((o) => o.symbol === symbol && Number(o.filled_qty) > 0)
    .map((o) => ({ shape: "marker", type: "trades", id: o.client_order_id, t: o.updated_at_ms,
      position: o.side === "BUY" ? "belowBar" : "aboveBar", color: o.side === "BUY" ? "#26a269" : "#e5484d",
      marker: o.side === "BUY" ? "arrowUp" : "arrowDown",
      text: `${legs[o.leg] || o.leg || ""} ${formatPrice(o.average_price || o.price)}`.trim() }));
}

export function countByType(shapes) {
  const counts = Object.fromEntries(OVERLAY_TYPES.map(([type]) => [type, 0]));
  for (const s of shapes) counts[s.type] = (counts[s.type] || 0) + 1;
  return counts;
}
