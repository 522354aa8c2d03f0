"""A self-contained HTML report (no CDN, no network): hand-written SVG plus ~60 lines of inline JS.

Why not Plotly: its inlined JS alone is ~3.5 MB per report and a new dependency; the four views
this report needs (equity, drawdown, candles with trades and zones, tables) are simple shapes that
SVG draws natively, so a report stays a few hundred KB, opens instantly and prints cleanly.

Views: headline metrics; data quality (gaps, zero-volume bars); equity curve against buy and hold;
drawdown; an overview candle chart (candles aggregated so
the whole period fits) with entries, exits and the ICT zones that triggered them; a per-trade
detail chart (base-timeframe candles around the trade, drawn on demand by the inline script);
monthly returns; the trade list.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.backtest.metrics import buy_and_hold_equity, drawdown, monthly_returns
from ictbot.backtest.report_charts import (
    BLUE,
    GREEN,
    RED,
    REPORT_CSS,
    WIDTH,
    axis_labels,
    card,
    fmt_value,
    line_chart,
    scale,
)
from ictbot.backtest.report_sections import deviations_block, quality_section
from ictbot.backtest.report_sections import esc as _esc
from ictbot.backtest.results import SymbolResult, Trade
from ictbot.backtest.run import BacktestOutcome
from ictbot.domain.timeframe import ms_to_datetime

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_DETAIL_BUDGET = 30_000  # base candles embedded for the per-trade charts
_DETAIL_BEFORE, _DETAIL_AFTER, _DETAIL_MAX = 60, 20, 400



def _day(ms: int) -> str:
    return ms_to_datetime(ms).strftime("%Y-%m-%d %H:%M")


def _buy_and_hold(outcome: BacktestOutcome) -> tuple[I64, F64]:
    """Buy-and-hold equity of the same symbols with the same cash, summed on the union of times."""
    curves = [(r.times, buy_and_hold_equity(r.open, r.close, r.initial_cash)) for r in outcome.results]
    if len(curves) == 1:
        return curves[0]
    times = np.unique(np.concatenate([t for t, _ in curves])) if curves else np.empty(0, dtype=np.int64)
    total = np.zeros(times.size, dtype=np.float64)
    for (own, values), result in zip(curves, outcome.results, strict=True):
        pos = np.searchsorted(own, times, side="right") - 1
        total += np.where(pos >= 0, values[np.clip(pos, 0, None)], float(result.initial_cash))
    return times, total


def _display_candles(result: SymbolResult, target: int = 700) -> tuple[I64, F64, F64, F64, F64, int]:
    """Aggregate to a whole multiple of the base timeframe so about ``target`` candles remain."""
    n = result.candles
    base_minutes = max(1, result.timeframe_ms // 60_000)
    nice = [m // base_minutes for m in (1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 4320, 10080, 43200)
            if m % base_minutes == 0 and m >= base_minutes]
    step = next((k for k in nice if n / k <= target), max(1, int(np.ceil(n / target))))
    starts = np.arange(0, n, step)
    o = result.open[starts]
    h = np.maximum.reduceat(result.high, starts)
    lo = np.minimum.reduceat(result.low, starts)
    c = result.close[np.r_[starts[1:] - 1, n - 1]]
    return result.times[starts], o, h, lo, c, step


def _candle_chart(result: SymbolResult) -> str:
    if result.candles == 0:
        return ""
    t, o, h, lo, c, step = _display_candles(result)
    height = 420
    left, right, top, bottom = 70.0, WIDTH - 10.0, 10.0, height - 25.0
    pmin, pmax = float(lo.min()), float(h.max())
    t0 = int(t[0])
    t1 = int(result.times[-1]) + result.timeframe_ms
    def x_of(ms: float) -> float:
        return left + (ms - t0) / max(1, t1 - t0) * (right - left)
    def y_of(price: float) -> float:
        return float(scale(np.array([price]), pmin, pmax, top, bottom)[0])
    bar_w = max(0.6, (right - left) / len(t) * 0.7)
    span_ms = step * result.timeframe_ms
    parts: list[str] = []
    by_signal = {tr.signal_time: tr for tr in result.trades}
    for zone in result.zones:
        trade = by_signal.get(zone.signal_time)
        end = trade.exit_time if trade else zone.signal_time
        x0, x1 = x_of(zone.start_time), x_of(end)
        y0, y1 = y_of(zone.top), y_of(zone.bottom)
        color = GREEN if zone.direction > 0 else RED
        parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{max(1.5, x1 - x0):.1f}" height="{max(1.0, y1 - y0):.1f}"'
                     f' fill="{color}" fill-opacity="0.18" stroke="{color}" stroke-opacity="0.5">'
                     f'<title>{_esc(zone.timeframe)} {_esc(zone.kind)} [{zone.bottom}, {zone.top}]</title></rect>')
    for k in range(len(t)):
        x = x_of(int(t[k]) + span_ms / 2)
        color = GREEN if c[k] >= o[k] else RED
        yo, yc = y_of(float(o[k])), y_of(float(c[k]))
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_of(float(h[k])):.1f}" y2="{y_of(float(lo[k])):.1f}" '
                     f'stroke="{color}" stroke-width="0.8"/>'
                     f'<rect x="{x - bar_w / 2:.1f}" y="{min(yo, yc):.1f}" width="{bar_w:.1f}" '
                     f'height="{max(0.6, abs(yc - yo)):.1f}" fill="{color}"/>')
    for trade in result.trades:
        xe, xx = x_of(trade.entry_time), x_of(trade.exit_time)
        ye, yx = y_of(float(trade.entry_price)), y_of(float(trade.exit_price))
        color = GREEN if trade.pnl > 0 else RED
        parts.append(
            f'<g class="tr" data-n="{trade.number}"><title>#{trade.number} {_esc(trade.direction)} '
            f'{_day(trade.entry_time)} @ {trade.entry_price} → {_day(trade.exit_time)} @ {trade.exit_price} '
            f'({_esc(trade.exit_reason)}) P&amp;L {float(trade.pnl):,.2f}</title>'
            f'<line x1="{xe:.1f}" y1="{ye:.1f}" x2="{xx:.1f}" y2="{yx:.1f}" stroke="{color}" stroke-width="1"/>'
            f'<path d="M{xe - 3.5:.1f},{ye + 6:.1f} L{xe + 3.5:.1f},{ye + 6:.1f} L{xe:.1f},{ye:.1f}Z" fill="{BLUE}"/>'
            f'<path d="M{xx - 3.5:.1f},{yx - 6:.1f} L{xx + 3.5:.1f},{yx - 6:.1f} L{xx:.1f},{yx:.1f}Z" '
            f'fill="{color}"/></g>')
    ticks = "".join(
        f'<text x="{left - 6:.1f}" y="{y_of(v) + 4:.1f}" class="ax" text-anchor="end">{v:,.0f}</text>'
        f'<line x1="{left}" x2="{right}" y1="{y_of(v):.1f}" y2="{y_of(v):.1f}" class="grid"/>'
        for v in np.linspace(pmin, pmax, 6).tolist()
    )
    minutes = span_ms // 60_000
    caption = f"{len(t)} candles of {minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m candles"
    return (f'<p class="note">{_esc(result.symbol)} — {caption}; ▲ entry, ▼ exit (green win, red loss); '
            f'shaded boxes: the zones that triggered entries. Click a trade row for its detail chart.</p>'
            f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="candles">{ticks}{"".join(parts)}'
            f'{axis_labels(t0, t1, left, right, height - 6.0)}</svg>')


def _detail_data(result: SymbolResult) -> dict[str, Any]:
    """Base candles around trades, within a size budget (best, worst and latest trades first)."""
    trades = result.trades
    chosen: list[Trade] = list(trades)
    def window(tr: Trade) -> tuple[int, int]:
        a = max(0, tr.entry_index - _DETAIL_BEFORE)
        b = min(result.candles, tr.exit_index + _DETAIL_AFTER + 1)
        return a, min(b, a + _DETAIL_MAX)
    total = sum(b - a for a, b in map(window, chosen))
    if total > _DETAIL_BUDGET:
        by_pnl = sorted(trades, key=lambda tr: tr.pnl)
        pick = {tr.number: tr for tr in [*by_pnl[:60], *by_pnl[-60:], *trades[-80:]]}
        chosen = sorted(pick.values(), key=lambda tr: tr.number)
    out: dict[str, Any] = {}
    zones = {z.signal_time: z for z in result.zones}
    for tr in chosen:
        a, b = window(tr)
        zone = zones.get(tr.signal_time)
        out[str(tr.number)] = {
            "t0": int(result.times[a]),
            "t": ((result.times[a:b] - result.times[a]) // result.timeframe_ms).tolist(),
            "o": result.open[a:b].tolist(), "h": result.high[a:b].tolist(),
            "l": result.low[a:b].tolist(), "c": result.close[a:b].tolist(),
            "entry": [tr.entry_time, float(tr.entry_price)], "exit": [tr.exit_time, float(tr.exit_price)],
            "stop": None if tr.stop_loss is None else float(tr.stop_loss),
            "target": None if tr.take_profit is None else float(tr.take_profit),
            "zone": None if zone is None else [zone.start_time, zone.top, zone.bottom, zone.direction],
            "tf": result.timeframe_ms, "label": f"#{tr.number} {tr.direction} {tr.exit_reason}",
        }
    return out


def _monthly_table(outcome: BacktestOutcome) -> str:
    times, equity = outcome.combined_equity()
    rows = monthly_returns(times, equity, float(sum(r.initial_cash for r in outcome.results)))
    if not rows:
        return ""
    years = sorted({y for y, _, _ in rows})
    cell = {(y, m): v for y, m, v in rows}
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Year"]
    head = "".join(f"<th>{m}</th>" for m in names)
    body = []
    for year in years:
        cells = []
        growth = 1.0
        for month in range(1, 13):
            value = cell.get((year, month))
            if value is None:
                cells.append("<td></td>")
                continue
            growth *= 1 + value / 100
            alpha = min(0.85, abs(value) / 10 + 0.08)
            rgb = "22,163,74" if value >= 0 else "220,38,38"
            cells.append(f'<td style="background:rgba({rgb},{alpha:.2f})">{value:+.2f}%</td>')
        cells.append(f"<td><b>{(growth - 1) * 100:+.2f}%</b></td>")
        body.append(f"<tr><th>{year}</th>{''.join(cells)}</tr>")
    return f'<table class="months"><tr><th></th>{head}</tr>{"".join(body)}</table>'


def _trade_table(trades: Sequence[Trade]) -> str:
    rows = []
    for tr in trades:
        cls = "win" if tr.pnl > 0 else "loss"
        rows.append(
            f'<tr class="{cls}" data-n="{tr.number}"><td>{tr.number}</td><td>{_esc(tr.symbol)}</td>'
            f"<td>{_esc(tr.direction)}</td><td>{_day(tr.entry_time)}</td><td>{tr.entry_price}</td>"
            f"<td>{_day(tr.exit_time)}</td><td>{tr.exit_price}</td><td>{tr.qty}</td>"
            f"<td>{float(tr.fees):,.2f}</td><td>{float(tr.pnl):+,.2f}</td><td>{tr.return_pct:+.2f}%</td>"
            f"<td>{_esc(tr.exit_reason)}</td><td>{_esc('; '.join(tr.entry_reason))}</td></tr>")
    head = ("<tr><th>#</th><th>Symbol</th><th>Side</th><th>Entry</th><th>Price</th><th>Exit</th><th>Price</th>"
            "<th>Qty</th><th>Fees</th><th>P&amp;L</th><th>Return</th><th>Exit reason</th><th>Why</th></tr>")
    return f'<table class="trades"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


_JS = """
const D=JSON.parse(document.getElementById('detail-data').textContent);
function draw(n){const d=D[n],box=document.getElementById('detail');
if(d&&!d.ready){d.t=d.t.map(k=>d.t0+k*d.tf);d.ready=true;}
if(!d){box.innerHTML='<p class="note">No candles embedded for trade #'+n+' (report size budget).</p>';return;}
const W=1100,H=360,L=70,R=W-10,T=10,B=H-25,N=d.t.length;
let lo=Math.min(...d.l),hi=Math.max(...d.h);const span=hi-lo;
for(const k of ['stop','target']){const v=d[k];if(v&&(v<lo-span||v>hi+span)){d[k]=null;}}
for(const v of [d.stop,d.target]){if(v){lo=Math.min(lo,v);hi=Math.max(hi,v);}}
if(d.zone){lo=Math.min(lo,d.zone[2]);hi=Math.max(hi,d.zone[1]);}
const pad=(hi-lo)*0.04;lo-=pad;hi+=pad;const t0=d.t[0],t1=d.t[N-1]+d.tf;
const X=t=>L+(t-t0)/(t1-t0)*(R-L),Y=p=>B-(p-lo)/(hi-lo)*(B-T),w=Math.max(1,(R-L)/N*0.7);
let s='<svg viewBox="0 0 '+W+' '+H+'">';
for(let k=0;k<=5;k++){const v=lo+(hi-lo)*k/5;s+='<text class="ax" x="'+(L-6)+'" y="'+(Y(v)+4)+'" text-anchor="end">'+v.toFixed(2)+'</text><line class="grid" x1="'+L+'" x2="'+R+'" y1="'+Y(v)+'" y2="'+Y(v)+'"/>';}
if(d.zone){const z=d.zone,c=z[3]>0?'#16a34a':'#dc2626';s+='<rect x="'+X(Math.max(z[0],t0))+'" y="'+Y(z[1])+'" width="'+Math.max(2,X(d.exit[0])-X(Math.max(z[0],t0)))+'" height="'+Math.max(1,Y(z[2])-Y(z[1]))+'" fill="'+c+'" fill-opacity="0.18" stroke="'+c+'"/>';}
for(let i=0;i<N;i++){const x=X(d.t[i]+d.tf/2),c=d.c[i]>=d.o[i]?'#16a34a':'#dc2626';
s+='<line x1="'+x+'" x2="'+x+'" y1="'+Y(d.h[i])+'" y2="'+Y(d.l[i])+'" stroke="'+c+'"/><rect x="'+(x-w/2)+'" y="'+Math.min(Y(d.o[i]),Y(d.c[i]))+'" width="'+w+'" height="'+Math.max(0.8,Math.abs(Y(d.o[i])-Y(d.c[i])))+'" fill="'+c+'"/>';}
for(const [v,c,l] of [[d.stop,'#dc2626','stop'],[d.target,'#16a34a','target']]){if(v){s+='<line x1="'+X(d.entry[0])+'" x2="'+X(d.exit[0]+d.tf)+'" y1="'+Y(v)+'" y2="'+Y(v)+'" stroke="'+c+'" stroke-dasharray="4 3"/><text class="ax" x="'+(X(d.exit[0]+d.tf)+4)+'" y="'+(Y(v)+4)+'">'+l+'</text>';}}
const e=d.entry,x=d.exit;s+='<path d="M'+(X(e[0])-5)+','+(Y(e[1])+9)+' L'+(X(e[0])+5)+','+(Y(e[1])+9)+' L'+X(e[0])+','+Y(e[1])+'Z" fill="#2563eb"/>';
s+='<path d="M'+(X(x[0])-5)+','+(Y(x[1])-9)+' L'+(X(x[0])+5)+','+(Y(x[1])-9)+' L'+X(x[0])+','+Y(x[1])+'Z" fill="#111827"/>';
box.innerHTML='<p class="note">'+d.label+' — base candles around the trade; dashed: stop and target (left out when far off the chart).</p>'+s+'</svg>';}
document.querySelectorAll('[data-n]').forEach(r=>r.addEventListener('click',()=>{draw(r.dataset.n);
document.getElementById('detail').scrollIntoView({behavior:'smooth',block:'center'});}));
const first=Object.keys(D)[0];if(first)draw(first);
"""  # noqa: E501 - minified inline script


def render_report(outcome: BacktestOutcome, document: dict[str, Any]) -> str:
    spec = outcome.spec
    s = document["summary"]
    times, equity = outcome.combined_equity()
    tone = "pos" if s["total_return_pct"] >= 0 else "neg"
    cards = "".join([
        card("Total return", f"{s['total_return_pct']:+.2f}%", tone), card("CAGR", f"{s['cagr_pct']:+.2f}%", tone),
        card("Final equity", f"{s['final_equity']:,.2f}"), card("Trades", f"{s['trades']:,}"),
        card("Win rate", f"{s['win_rate_pct']:.1f}%"), card("Profit factor", fmt_value(s["profit_factor"], "{:.2f}")),
        card("Expectancy", f"{s['expectancy']:+.2f} ({s['expectancy_pct']:+.3f}%)"),
        card("Sharpe", fmt_value(s["sharpe"], "{:.2f}")), card("Sortino", fmt_value(s["sortino"], "{:.2f}")),
        card("Max drawdown", f"{s['max_drawdown_pct']:.2f}%", "neg"),
        card("Longest drawdown", f"{s['max_drawdown_duration_days']:.1f} days"),
        card("Exposure", f"{s['exposure_pct']:.1f}%"), card("Fees paid", f"{s['fees']:,.2f}"),
        card("Buy and hold", fmt_value(s.get("buy_and_hold_return"), "{:+.2f}%")),
        card("P&L gross / net", f"{s['gross_pnl']:+,.2f} / {s['net_pnl']:+,.2f}"),
    ])
    candle_charts = "".join(_candle_chart(r) for r in outcome.results)
    details: dict[str, Any] = {}
    for result in outcome.results:
        details.update(_detail_data(result))
    meta = document["metadata"]
    files = "".join(f"<li>{_esc(f['path'])} <code>{f['sha256'][:16]}…</code></li>" for f in meta["data"])
    period = f"{_day(s['start'])} → {_day(s['end'])} UTC" if s["candles"] else ""
    code = meta.get("code") or {}
    detail_json = json.dumps(details, separators=(",", ":")).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ictbot backtest — {_esc(spec.strategy)} {_esc(",".join(spec.symbols))}</title><style>{REPORT_CSS}</style></head>
<body>
<h1>{_esc(spec.strategy)} on {_esc(", ".join(spec.symbols))} ({_esc(spec.timeframe.value)})</h1>
<p class="sub">{period} · {s['candles']:,} candles · fee {_esc(spec.fee_rate)} per side · slippage
{_esc(spec.slippage_bps)} bps · fingerprint <code>{_esc(document['fingerprint'][:16])}…</code></p>
{deviations_block(document)}
<div class="cards">{cards}</div>
{quality_section(document)}
<h2>Equity <small>(dashed: buy and hold)</small></h2>{line_chart(times, equity, height=260, color=BLUE, fill=False,
                                                          label="equity", benchmark=_buy_and_hold(outcome))}
<h2>Drawdown</h2>{line_chart(times, drawdown(equity) * 100, height=150, color=RED, fill=True,
                               label="drawdown", fmt="{:.1f}%")}
<h2>Price, trades and zones</h2>{candle_charts}
<h2>Trade detail</h2><div id="detail"></div>
<h2>Monthly returns</h2>{_monthly_table(outcome)}
<h2>Trades</h2><div class="scroll">{_trade_table(outcome.trades)}</div>
<h2>Run</h2><ul>{files}</ul>
<p class="note">Parameters: <code>{_esc(json.dumps(meta["parameters"], sort_keys=True))}</code><br>
Instrument rules: {_esc("; ".join(f"{n}: {src.describe()}" for n, src in outcome.instrument_sources.items()))}<br>
Code: ictbot {_esc(code.get("package_version"))} · commit {_esc(code.get("git_commit"))}
{"(uncommitted changes)" if code.get("git_dirty") else ""} · Python {_esc(code.get("python"))}</p>
<script type="application/json" id="detail-data">{detail_json}</script>
<script>{_JS}</script>
</body></html>
"""


def write_report(outcome: BacktestOutcome, document: dict[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_report(outcome, document))
