// Pure formatting helpers: prices rounded to the symbol's tick, quantities to its step, times in UTC.
// No DOM access here, so every function can be reasoned about (and tested) on its own.

/** Decimal places of a step such as "0.01" or "1E-8" (0 for integer steps or unknown). */
export function decimalsOf(step) {
  if (step === null || step === undefined || step === "") return null;
  const value = Number(step);
  if (!(value > 0)) return null;
  const text = String(step).toLowerCase();
  if (text.includes("e-")) return Number(text.split("e-")[1]);
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : text.slice(dot + 1).replace(/0+$/, "").length;
}

/** A price as the exchange would show it: rounded to the tick (fallback: 2–8 significant decimals). */
export function price(value, tick) {
  if (value === null || value === undefined || value === "") return "–";
  const number = Number(value);
  if (!Number.isFinite(number)) return "–";
  let places = decimalsOf(tick);
  if (places === null) places = Math.abs(number) >= 100 ? 2 : Math.abs(number) >= 1 ? 4 : 8;
  if (tick && Number(tick) > 0) {
    const stepped = Math.round(number / Number(tick)) * Number(tick);
    return stepped.toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });
  }
  return number.toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: places });
}

export function money(value, places = 2) {
  if (value === null || value === undefined || value === "") return "–";
  const number = Number(value);
  return Number.isFinite(number)
    ? number.toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places }) : "–";
}

export function signed(value, places = 2) {
  const text = money(value, places);
  return Number(value) > 0 ? "+" + text : text;
}

export function pct(value) {
  return value === null || value === undefined || !Number.isFinite(Number(value)) ? "–" : (Number(value) * 100).toFixed(1) + "%";
}

export function ratio(value) {
  return value === null || value === undefined || !Number.isFinite(Number(value)) ? "–" : Number(value).toFixed(2);
}

/** "MM-DD HH:MM:SS" in UTC (the bot's and the exchange's clock). */
export function time(ms) {
  return ms ? new Date(Number(ms)).toISOString().replace("T", " ").slice(5, 19) : "–";
}

export function day(ms) {
  return new Date(Number(ms)).toISOString().slice(0, 10);
}

export const signClass = (value) => (Number(value) > 0 ? "pos" : Number(value) < 0 ? "neg" : "");

const TIMEFRAME_MS = { "1m": 60e3, "3m": 180e3, "5m": 300e3, "15m": 900e3, "30m": 1800e3, "1h": 3600e3,
  "2h": 7200e3, "4h": 14400e3, "6h": 21600e3, "12h": 43200e3, "1d": 86400e3, "1w": 604800e3 };

export function timeframeMs(timeframe) {
  return TIMEFRAME_MS[timeframe] || 300e3;
}
