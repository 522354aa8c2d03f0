// Control: strategies on/off, strategy and risk parameters (validated by the server as you type,
// the reason shown beside the field), configuration history with rollback, and the trading state
// (halt / resume / emergency stop). Everything here needs the trade scope and is hidden without it.

import { api, post, put } from "./api.js";
import { time } from "./format.js";
import { el, emptyRow } from "./store.js";

const $ = (id) => document.getElementById(id);
// An empty field keeps the running value (the file's or the built-in default; `ictbot config show`).
const RISK_FIELDS = [
  ["risk_per_trade_pct", "risk per trade (% of equity)"], ["max_daily_loss", "max daily loss (fraction)"],
  ["max_drawdown", "max drawdown (fraction)"], ["max_positions", "max open positions"],
  ["max_exposure", "max exposure (× equity)"], ["max_leverage", "max leverage"],
  ["cooldown_s", "cooldown after a loss (s)"],
];
let report = () => {};
let canTrade = () => false;

export function initControl(flash, tradeScope) {
  report = flash;
  canTrade = tradeScope;
  $("risk-form").addEventListener("submit", (event) => { event.preventDefault(); saveRisk(); });
  $("risk-form").addEventListener("input", debounce(() => validate({ risk: riskChanges() }, $("risk-form")), 400));
}

// ---- strategies --------------------------------------------------------------------------------
export async function loadStrategies() {
  const [strategies, config] = await Promise.all([api("/strategies"), api("/config")]);
  const rows = strategies.map((s) => strategyRows(s, (config.strategies || {})[s.id] || {})).flat();
  $("strategies").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(6, "no strategies")]));
}

function strategyRows(strategy, entry) {
  const tr = el("tr");
  tr.dataset.strategyId = strategy.id;
  const toggle = el("button", strategy.enabled ? "Disable" : "Enable", "small strategy-toggle " + (strategy.enabled ? "warn" : ""));
  toggle.addEventListener("click", async () => {
    try {
      await post(`/strategies/${encodeURIComponent(strategy.id)}/${strategy.enabled ? "disable" : "enable"}`);
      report(`${strategy.id} ${strategy.enabled ? "disabled" : "enabled"}`);
    } catch (err) { report(`${strategy.id}: ${err.message}`, true); }
    loadStrategies().catch(() => {});
  });
  const edit = el("button", "Parameters", "small ghost");
  const state = el("td"); state.append(el("span", strategy.enabled ? "on" : "off", "pill " + (strategy.enabled ? "executed" : "rejected")));
  const actions = el("td", undefined, "trade-only"); actions.append(toggle, edit);
  tr.append(el("td", strategy.id), el("td", strategy.kind), state, el("td", (strategy.symbols || []).join(", ")),
    el("td", `${strategy.signals} signals · ${strategy.open_positions} open`), actions);
  const formRow = el("tr", undefined, "param-row");
  formRow.hidden = true;
  const cell = el("td"); cell.colSpan = 6; cell.append(paramForm(strategy, entry)); formRow.append(cell);
  edit.addEventListener("click", () => { formRow.hidden = !formRow.hidden; });
  return [tr, formRow];
}

function field(name, label, value, placeholder) {
  const wrap = el("label", undefined, "field");
  const input = el("input"); input.name = name; input.value = value ?? ""; input.placeholder = placeholder || "default";
  wrap.append(el("span", label), input, el("span", "", "field-error"));
  wrap.dataset.field = name;
  return wrap;
}

function paramForm(strategy, entry) {
  const form = el("form", undefined, "param-form");
  form.append(field("risk_per_trade_pct", "risk per trade (%)", entry.risk_per_trade_pct, String(strategy.risk_per_trade_pct ?? "")),
    field("max_positions", "max positions", entry.max_positions));
  for (const [name, value] of Object.entries(entry.params || {})) form.append(field("params." + name, name, value));
  const extra = el("div", undefined, "field add-param");
  const key = el("input"); key.placeholder = "new parameter"; key.className = "param-key";
  const value = el("input"); value.placeholder = "value"; value.className = "param-value";
  key.addEventListener("input", () => { extra.dataset.field = "params." + key.value.trim(); });
  extra.append(key, value, el("span", "", "field-error"));
  form.append(extra, el("p", "", "error form-error"), el("button", "Save", "small"));
  const changes = () => strategyChanges(strategy.id, form);
  form.addEventListener("input", debounce(() => validate({ strategies: [changes()] }, form), 400));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await put("/config/strategy", changes()); report(`${strategy.id}: parameters saved`); loadStrategies(); loadHistory(); }
    catch (err) { showErrors(form, err.fields, err.message); }
  });
  return form;
}

const parseValue = (text) => {
  const trimmed = text.trim();
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
};

function strategyChanges(id, form) {
  const update = { strategy_id: id };
  const params = {};
  for (const input of form.querySelectorAll(".field input[name]")) {
    if (input.value.trim() === "") continue;
    if (input.name.startsWith("params.")) params[input.name.slice(7)] = parseValue(input.value);
    else update[input.name] = parseValue(input.value);
  }
  const key = form.querySelector(".param-key").value.trim();
  if (key) params[key] = parseValue(form.querySelector(".param-value").value);
  if (Object.keys(params).length) update.params = params;
  return update;
}

// ---- risk --------------------------------------------------------------------------------------
export async function loadRisk() {
  const config = await api("/config");
  const form = $("risk-form");
  if (!form.querySelector(".field")) {
    const save = form.querySelector("button");
    for (const [name, label] of RISK_FIELDS) form.insertBefore(field(name, label, "", "unchanged"), save);
  }
  for (const [name] of RISK_FIELDS) {
    const input = form.querySelector(`input[name="${name}"]`);
    if (document.activeElement !== input) input.value = (config.risk || {})[name] ?? "";
  }
}

function riskChanges() {
  const update = {};
  for (const input of $("risk-form").querySelectorAll("input[name]")) {
    if (input.value.trim() !== "") update[input.name] = parseValue(input.value);
  }
  return update;
}

async function saveRisk() {
  const form = $("risk-form");
  try { await put("/config/risk", riskChanges()); report("risk limits saved"); showErrors(form, [], ""); loadHistory(); }
  catch (err) { showErrors(form, err.fields, err.message); }
}

// ---- validation beside the field -----------------------------------------------------------------
async function validate(document, form) {
  try {
    const result = await post("/config/validate", document);
    showErrors(form, result.errors || [], "");
  } catch (err) { showErrors(form, err.fields, err.message); }
}

/** Each error goes beside the field whose name ends its path; the rest under the form. */
export function showErrors(form, errors, message) {
  const rest = [];
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
  for (const error of errors || []) {
    const path = String(error.field);
    const target = [...form.querySelectorAll(".field[data-field]")].find((f) => path === f.dataset.field
      || path.endsWith("." + f.dataset.field) || path.endsWith(f.dataset.field.replace("params.", "")));
    if (target) target.querySelector(".field-error").textContent = error.reason;
    else rest.push(`${path}: ${error.reason}`);
  }
  const general = form.querySelector(".form-error");
  if (general) general.textContent = rest.join("; ") || (errors && errors.length ? "" : message);
}

// ---- history -------------------------------------------------------------------------------------
export async function loadHistory() {
  const versions = await api("/config/history?limit=20");
  const rows = versions.map((v, i) => {
    const tr = el("tr");
    const summary = Object.keys(v.changes || {}).join(", ");
    const action = el("td", undefined, "trade-only");
    if (i > 0 && canTrade()) {
      const rollback = el("button", "Roll back", "small ghost");
      rollback.addEventListener("click", async () => {
        try { await post(`/config/rollback/${v.version}`); report(`configuration rolled back to version ${v.version}`); }
        catch (err) { report("rollback failed: " + err.message, true); }
        loadHistory(); loadStrategies(); loadRisk();
      });
      action.append(rollback);
    }
    tr.append(el("td", "v" + v.version), el("td", time(v.changed_at_ms)), el("td", v.section), el("td", v.source || ""),
      el("td", summary, "muted"), action);
    return tr;
  });
  $("history").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(6, "no versions")]));
}

// ---- trading state --------------------------------------------------------------------------------
export function wireTradingButtons(refresh) {
  $("halt").addEventListener("click", async () => {
    const reason = prompt("Halt trading (open positions keep their stops). Reason?", "manual halt from the dashboard");
    if (reason === null) return;
    try { await post("/trading/halt", { reason }); report("trading halted"); } catch (err) { report("halt failed: " + err.message, true); }
    refresh();
  });
  $("resume").addEventListener("click", async () => {
    try { await post("/trading/resume"); report("trading resumed"); } catch (err) { report("resume failed: " + err.message, true); }
    refresh();
  });
  $("emergency").addEventListener("click", async () => {
    const typed = prompt("EMERGENCY STOP: halt, cancel every order and close every position at market.\nType STOP to confirm.");
    if (typed !== "STOP") return;
    try {
      const result = await post("/emergency-stop", { reason: "emergency stop from the dashboard" });
      report(`emergency stop: ${result.canceled_orders.length} orders canceled, ${result.closing_orders.length} closing`);
    } catch (err) { report("emergency stop failed: " + err.message, true); }
    refresh();
  });
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
