// Start a backtest from the page: a strategy over the candles the bot has stored runs in a worker
// process on the server (POST /backtests/jobs); its progress is polled, and once done its result (now in
// the --reports folder) is listed and opened.

import { api, post } from "./api.js";
import { openBacktest, loadBacktests } from "./backtests.js";
import { showErrors } from "./control.js";
import { time } from "./format.js";
import { loadedRange } from "./market.js";
import { el, emptyRow, store } from "./store.js";

const POLL_MS = 700;
const REFERENCE_STRATEGIES = ["s1_ema_cross", "s2_fvg"];   // ictbot backtest's own, beside the bot's kinds
const $ = (id) => document.getElementById(id);
const mine = new Set();      // jobs started from this page: opened when they finish
const opened = new Set();
let pollTimer = null;
let report = () => {};

export function initBacktestRuns(flash) {
  report = flash;
  $("backtest-run").addEventListener("submit", (event) => { event.preventDefault(); startRun(); });
}

const toInput = (ms) => new Date(ms).toISOString().slice(0, 16);   // datetime-local, read as UTC
const fromInput = (text) => (text ? Date.parse(text + "Z") : NaN);

/** The form's choices: the bot's strategy kinds, symbols and timeframes, the chart's candles as the range. */
export async function prepareRunForm() {
  const strategies = await api("/strategies").catch(() => []);
  const kinds = [...new Set([...strategies.map((s) => s.kind), ...REFERENCE_STRATEGIES])];
  $("backtest-strategies").replaceChildren(...kinds.map((k) => { const o = el("option"); o.value = k; return o; }));
  const form = $("backtest-run");
  if (!form.strategy.value) form.strategy.value = (strategies.find((s) => s.enabled) || strategies[0] || { kind: kinds[0] }).kind;
  const symbols = store.symbols.length ? store.symbols : [store.symbol];
  if (form.symbol.options.length !== symbols.length) form.symbol.replaceChildren(...symbols.map((s) => el("option", s)));
  form.symbol.value = store.symbol || symbols[0];
  const timeframes = [...$("timeframe").options].map((o) => o.value);
  if (form.timeframe.options.length !== timeframes.length) form.timeframe.replaceChildren(...timeframes.map((t) => el("option", t)));
  const range = loadedRange();
  if (range && !form.start.value) { form.start.value = toInput(range.first); form.end.value = toInput(range.end); }
  await refreshJobs();
}

async function startRun() {
  const form = $("backtest-run");
  const body = { strategy: form.strategy.value.trim(), symbol: form.symbol.value, timeframe: form.timeframe.value,
    start_ms: fromInput(form.start.value), end_ms: fromInput(form.end.value) };
  const missing = ["start_ms", "end_ms"].filter((k) => !Number.isFinite(body[k]))
    .map((k) => ({ field: k, reason: "a date and time (UTC) is needed" }));
  if (missing.length) { showErrors(form, missing, ""); return; }
  form.querySelector("button").disabled = true;
  showErrors(form, [], "starting a worker…");
  try {
    const job = await post("/backtests/jobs", body);
    mine.add(job.id);
    showErrors(form, [], "");
    report(`backtest ${job.id} started`);
  } catch (err) { showErrors(form, err.fields, err.message); }
  finally { form.querySelector("button").disabled = false; }
  await refreshJobs();
}

export async function refreshJobs() {
  clearTimeout(pollTimer); pollTimer = null;
  const list = await api("/backtests/jobs");
  $("backtest-run").hidden = !list.available;
  $("backtest-run-note").textContent = list.available
    ? `runs in a worker process on the server, at most ${list.max_jobs} at once` : "starting backtests is unavailable: " + list.reason;
  const rows = list.items.map(jobRow);
  $("backtest-jobs").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(7, "no backtest started from here yet")]));
  for (const job of list.items) {
    if (job.state === "done" && mine.has(job.id) && !opened.has(job.id)) {
      opened.add(job.id);
      await loadBacktests();
      await openBacktest(job.result);
    }
  }
  if (list.items.some((j) => j.state === "running")) pollTimer = setTimeout(() => refreshJobs().catch(() => {}), POLL_MS);
}

function jobRow(job) {
  const tr = el("tr");
  tr.dataset.jobId = job.id; tr.dataset.state = job.state; tr.dataset.percent = String(job.percent);
  const bar = el("progress"); bar.max = 100; bar.value = job.percent;
  // A phase (the first run's kernel compile) says why the bar has not moved yet.
  const shown = job.phase ? ` ${job.phase}` : ` ${Math.round(job.percent)} % · ${job.done}/${job.total} candles`;
  const progress = el("td"); progress.append(bar, el("span", shown, "muted"));
  if (job.phase) { tr.dataset.phase = job.phase; bar.removeAttribute("value"); }
  const state = el("td"); state.append(el("span", job.state, "pill " + ({ done: "executed", running: "accepted" }[job.state] || "rejected")));
  if (job.error) state.append(el("div", job.error, "reason neg small-text"));
  const actions = el("td");
  if (job.state === "done" && job.result) {
    const open = el("button", "Open", "small"); open.addEventListener("click", () => openBacktest(job.result)); actions.append(open);
  }
  if (job.state === "running") {
    const cancel = el("button", "Cancel", "small warn trade-only");
    cancel.addEventListener("click", async () => {
      try { await api("/backtests/jobs/" + job.id, { method: "DELETE" }); } catch (err) { report(err.message, true); }
      refreshJobs().catch(() => {});
    });
    actions.append(cancel);
  }
  tr.append(el("td", time(job.started_ms)), el("td", job.strategy), el("td", `${job.symbol} ${job.timeframe}`),
    el("td", `${time(job.start_ms).slice(0, 11)} → ${time(job.end_ms).slice(0, 11)}`), progress, state, actions);
  return tr;
}
