// Alerts grouped and de-duplicated: messages that differ only in their numbers and ids ("p99 slippage
// 51.2 bps", "position ict-615e…: dust 0.00006410 BTC left") are one row with a count and the latest text.

import { time } from "./format.js";
import { el } from "./store.js";

const MAX_GROUPS = 40;
const groups = new Map();   // key -> { level, source, message, count, first, last }

export function alertKey(source, message) {
  // any word with a digit in it (a number, an order or position id) counts as a placeholder
  return source + "|" + String(message).replace(/[-+]?[A-Za-z0-9_-]*\d[A-Za-z0-9_.,:-]*/g, "#");
}

export function addAlert(level, source, message, ms) {
  const key = alertKey(source, message);
  const group = groups.get(key) || { level, source, message, count: 0, first: ms, last: ms };
  group.count += 1; group.message = message; group.level = level; group.last = Math.max(group.last, ms || 0);
  groups.delete(key);
  groups.set(key, group);   // newest group last in insertion order
  while (groups.size > MAX_GROUPS) groups.delete(groups.keys().next().value);
  render();
}

function render() {
  const items = [...groups.values()].reverse().map((g) => {
    const li = el("li", undefined, "alert " + g.level);
    li.append(el("span", time(g.last), "time"), el("span", `[${g.source}] ${g.message}`, g.level));
    if (g.count > 1) li.append(el("span", "×" + g.count, "count"));
    return li;
  });
  document.getElementById("alerts").replaceChildren(...items);
}
