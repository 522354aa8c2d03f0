"""A self-contained HTML report of an optimisation (inline SVG, no script, no CDN): per fold the
in-sample and out-of-sample metrics side by side, the out-of-sample equity stitched across folds,
parameter importance and stability. Drawing helpers are the backtest report's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ictbot.backtest.report_charts import (
    BLUE,
    GREEN,
    GREY,
    RED,
    REPORT_CSS,
    WIDTH,
    card,
    downsample,
    fmt_value,
    line_chart,
)
from ictbot.backtest.report_sections import esc
from ictbot.domain.timeframe import ms_to_datetime

_EXTRA_CSS = ".bar{fill:#2563eb}.gap{color:#b45309}.side td:nth-child(n+4){border-left:1px solid #f3f4f6}"
_METRICS = (("value", "objective", "{:+.3f}"), ("total_return_pct", "return %", "{:+.2f}"),
            ("trades", "trades", "{:d}"), ("sharpe", "sharpe", "{:.2f}"), ("max_drawdown_pct", "max DD %", "{:.2f}"))


def _day(ms: int) -> str:
    return ms_to_datetime(ms).strftime("%Y-%m-%d")


def _window(window: Mapping[str, int]) -> str:
    return f"{_day(window['start_ms'])} → {_day(window['end_ms'])}"


def _params(params: Mapping[str, Any] | None) -> str:
    return "—" if not params else ", ".join(f"{k}={v}" for k, v in params.items())


def _metric_cells(summary: Mapping[str, Any] | None, value: float | None) -> str:
    values = {**(summary or {}), "value": value}
    return "".join(f"<td>{esc(fmt_value(values.get(key), fmt))}</td>" for key, _label, fmt in _METRICS)


def _folds_table(document: Mapping[str, Any]) -> str:
    head = "".join(f"<th>IS {label}</th>" for _k, label, _f in _METRICS)
    head += "".join(f"<th>OOS {label}</th>" for _k, label, _f in _METRICS)
    rows = []
    for fold in document["folds"]:
        chosen, oos = fold["chosen"], fold["out_of_sample_result"] or {}
        is_value = None if chosen is None else chosen["in_sample_value"]
        rows.append(f"<tr><td>{fold['number']}</td><td>{esc(_window(fold['in_sample']))}</td>"
                    f"<td>{esc(_window(fold['out_of_sample']))}</td>"
                    f"{_metric_cells(None if chosen is None else chosen['in_sample'], is_value)}"
                    f"{_metric_cells(oos.get('summary'), oos.get('value'))}"
                    f"<td style='text-align:left'>{esc(_params(None if chosen is None else chosen['params']))}"
                    f"{'' if oos.get('reason') is None else ' · ' + esc(oos['reason'])}</td></tr>")
    return (f"<table class='side'><thead><tr><th>fold</th><th>in-sample (fit)</th><th>out-of-sample</th>{head}"
            f"<th style='text-align:left'>chosen parameters</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _bars(values: Mapping[str, float | None], *, label: str) -> str:
    shown = [(k, v) for k, v in values.items() if v is not None]
    if not shown:
        return '<p class="note">Not enough trials to tell.</p>'
    row, left, width = 22, 200, 700
    parts = []
    for i, (name, value) in enumerate(shown):
        y = 6 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 14}" class="ax" text-anchor="end">{esc(name)}</text>'
                     f'<rect class="bar" x="{left}" y="{y + 3}" width="{max(1.0, float(value) * width):.1f}" '
                     f'height="14"/><text x="{left + float(value) * width + 6:.1f}" y="{y + 14}" '
                     f'class="ax">{float(value):.2f}</text>')
    return (f'<svg viewBox="0 0 1100 {12 + row * len(shown)}" role="img" aria-label="{esc(label)}">'
            f'{"".join(parts)}</svg>')


def _stability_table(document: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td style='text-align:left'>{esc(name)}</td><td style='text-align:left'>"
        f"{esc(', '.join(str(v) for v in entry['per_fold']))}</td><td>{esc(fmt_value(entry['stability'], '{:.2f}'))}"
        f"</td></tr>" for name, entry in document["stability"].items())
    return (f"<table><thead><tr><th style='text-align:left'>parameter</th><th style='text-align:left'>chosen per fold"
            f"</th><th>stability</th></tr></thead><tbody>{rows}</tbody></table>")


def _workers(document: Mapping[str, Any]) -> str:
    totals: dict[str, int] = {}
    for fold in document["folds"]:
        for worker, count in fold["workers"].items():
            totals[str(worker)] = totals.get(str(worker), 0) + count
    states: dict[str, int] = {}
    for fold in document["folds"]:
        for state, count in fold["states"].items():
            states[state] = states.get(state, 0) + count
    who = ", ".join(f"{esc(w)}: {n}" for w, n in sorted(totals.items()))
    by_state = ", ".join(f"{esc(state)} {count}" for state, count in sorted(states.items()))
    return (f'<p class="note">Trials by state: {by_state} (PRUNED: surplus trials of concurrent workers, never run; '
            f'FAIL: a dead worker\'s trial, run again) · COMPLETE trials by worker: {who}</p>')


def _fold_marks(chart: str, times: np.ndarray, equity: np.ndarray, starts: list[int], height: int) -> str:
    """Dashed lines where each fold's out-of-sample window starts, on ``line_chart``'s time axis."""
    if not chart or times.size < 2:
        return chart
    shown, _values = downsample(times, equity)
    t0, t1 = int(shown[0]), int(shown[-1])
    if t1 <= t0:
        return chart
    left, right = 70.0, WIDTH - 10.0
    marks = "".join(
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="10" y2="{height - 25}" stroke="{GREY}" stroke-dasharray="3 3"/>'
        f'<text x="{x + 4:.1f}" y="22" class="ax">fold {n}</text>'
        for n, start in enumerate(starts, 1) if t0 <= start <= t1
        for x in [left + (start - t0) / (t1 - t0) * (right - left)])
    return chart.replace("</svg>", marks + "</svg>")


def render_report(document: Mapping[str, Any]) -> str:
    oos = document["out_of_sample"]
    means = {side: [v for f in document["folds"] if (v := _side_value(f, side)) is not None] for side in ("is", "oos")}
    ret = oos["total_return_pct"]
    cards = "".join([
        card("OOS return (stitched)", fmt_value(ret, "{:+.2f}%"), "" if ret is None else "pos" if ret >= 0 else "neg"),
        card(f"mean IS {document['objective']}", fmt_value(_mean(means["is"]), "{:+.3f}")),
        card(f"mean OOS {document['objective']}", fmt_value(_mean(means["oos"]), "{:+.3f}")),
        card("folds", f"{len(document['folds'])} ({document['walk']})"),
        card("trials per fold", str(document["trials_per_fold"])), card("min trades", str(document["min_trades"])),
    ])
    times, equity = np.array(oos["times"], dtype=np.int64), np.array(oos["equity"], dtype=np.float64)
    chart = line_chart(times, equity, height=260, color=GREEN if (ret or 0) >= 0 else RED, fill=False,
                        label="out-of-sample equity")
    chart = _fold_marks(chart, times, equity, [f["out_of_sample"]["start_ms"] for f in document["folds"]], 260)
    status = "" if document["complete"] else '<p class="neg">The study is not finished: some folds are unsettled.</p>'
    best = document["best_params"]
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>ictbot optimize — {esc(document['strategy'])}</title><style>{REPORT_CSS}{_EXTRA_CSS}</style></head><body>
<h1>Walk-forward optimisation: {esc(document['strategy'])}</h1>
<p class="sub">study {esc(document['study'])} · objective {esc(document['objective'])} (maximised) ·
{esc(', '.join(d['name'] for d in document['space']))}</p>{status}
<div class="cards">{cards}</div>
<h2>In-sample vs out-of-sample per fold</h2>
<p class="note">Each fold's parameters were chosen on its in-sample window only and then run unchanged on the
out-of-sample window after it; the gap between the two sides is the overfitting.</p>{_folds_table(document)}
<h2>Out-of-sample equity, stitched across folds</h2>{chart or '<p class="note">No out-of-sample run.</p>'}
<h2>Parameter importance (mean over folds)</h2>{_bars(document['importance'], label='importance')}
<h2>Parameter stability across folds</h2>
<p class="note">1 = every fold chose the same value; near 0 = the choices span the searched range.</p>
{_bars({k: v['stability'] for k, v in document['stability'].items()}, label='stability')}{_stability_table(document)}
<h2>Best parameters (latest fold)</h2><p>{esc(_params(best))}</p>{_workers(document)}
<p class="note" style="color:{BLUE}">Generated by ictbot optimize.</p></body></html>"""


def _side_value(fold: Mapping[str, Any], side: str) -> float | None:
    if side == "is":
        return None if fold["chosen"] is None else fold["chosen"]["in_sample_value"]
    result = fold["out_of_sample_result"] or {}
    value = result.get("value")
    return None if value is None else float(value)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def write_report(document: Mapping[str, Any], path: Path) -> None:
    path.write_text(render_report(document), encoding="utf-8")
