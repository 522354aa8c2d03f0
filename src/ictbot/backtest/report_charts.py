"""Drawing primitives shared by the HTML reports (``backtest/report.py``, ``optimize/report.py``):
hand-written SVG line charts with axes, metric cards, value formatting and the stylesheet."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.backtest.report_sections import esc
from ictbot.domain.timeframe import ms_to_datetime

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

WIDTH = 1100
GREEN, RED, BLUE, GREY = "#16a34a", "#dc2626", "#2563eb", "#6b7280"


def scale(values: F64, lo: float, hi: float, top: float, bottom: float) -> F64:
    span = hi - lo if hi > lo else 1.0
    result: F64 = bottom - (values - lo) / span * (bottom - top)
    return result


def downsample(times: I64, values: F64, points: int = 1500) -> tuple[I64, F64]:
    """Keep each bucket's min and max so spikes and drawdowns survive the thinning."""
    if values.size <= points * 2:
        return times, values
    edges = np.linspace(0, values.size, points + 1).astype(np.int64)
    keep: list[int] = []
    for a, b in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        if b <= a:
            continue
        chunk = values[a:b]
        pair = sorted({a + int(np.argmin(chunk)), a + int(np.argmax(chunk))})
        keep.extend(pair)
    index = np.array(keep, dtype=np.int64)
    return times[index], values[index]


def axis_labels(t0: int, t1: int, left: float, right: float, y: float, count: int = 6) -> str:
    parts = []
    for k in range(count + 1):
        t = t0 + (t1 - t0) * k // count
        x = left + (right - left) * k / count
        anchor = "start" if k == 0 else "end" if k == count else "middle"
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" class="ax" text-anchor="{anchor}">'
                     f'{ms_to_datetime(t).strftime("%Y-%m-%d")}</text>')
    return "".join(parts)


def line_chart(times: I64, values: F64, *, height: int, color: str, fill: bool, label: str,
                fmt: str = "{:,.0f}", benchmark: tuple[I64, F64] | None = None) -> str:
    """A line (optionally filled) and, dashed grey on the same scale, a ``benchmark`` line."""
    if values.size == 0:
        return ""
    times, values = downsample(times, values)
    bench = None if benchmark is None or benchmark[1].size == 0 else downsample(*benchmark)
    left, right, top, bottom = 70.0, WIDTH - 10.0, 10.0, height - 25.0
    lo, hi = float(values.min()), float(values.max())
    if bench is not None:
        lo, hi = min(lo, float(bench[1].min())), max(hi, float(bench[1].max()))
    t0, t1 = int(times[0]), int(times[-1]) if times[-1] > times[0] else int(times[0]) + 1

    def points_of(ts: I64, vs: F64) -> str:
        xs = left + (ts - t0) / (t1 - t0) * (right - left)
        ys = scale(vs, lo, hi, top, bottom)
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True))

    points = points_of(times, values)
    area = ""
    if fill:
        area = (f'<polygon points="{left:.1f},{top:.1f} {points} {right:.1f},{top:.1f}" '
                f'fill="{color}" fill-opacity="0.25"/>')
    if bench is not None:
        area += (f'<polyline points="{points_of(*bench)}" fill="none" stroke="{GREY}" stroke-width="1.2" '
                 f'stroke-dasharray="4 3"/>')
    ticks = "".join(
        f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" class="ax" text-anchor="end">{fmt.format(v)}</text>'
        f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        for v, y in ((v, float(scale(np.array([v]), lo, hi, top, bottom)[0])) for v in np.linspace(lo, hi, 5))
    )
    return (f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{esc(label)}">{ticks}{area}'
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.4"/>'
            f'{axis_labels(t0, t1, left, right, height - 6.0)}</svg>')


def card(label: str, value: str, tone: str = "") -> str:
    return f'<div class="card"><span>{esc(label)}</span><b class="{tone}">{esc(value)}</b></div>'


def fmt_value(value: Any, fmt: str, none: str = "—") -> str:
    return none if value is None else fmt.format(value)


REPORT_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1140px;
color:#111827;background:#fff}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#6b7280;margin:0 0 16px}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:8px 10px}.card b{display:block;font-size:18px}
.card span{color:#6b7280;font-size:12px}svg{width:100%;height:auto;display:block}
.ax{font-size:11px;fill:#6b7280}.grid{stroke:#f3f4f6}.note{color:#6b7280;font-size:12px;margin:4px 0}
table{border-collapse:collapse;width:100%;font-size:12px}td,th{padding:3px 6px;border-bottom:1px solid #f3f4f6;
text-align:right;white-space:nowrap}.trades td:last-child{text-align:left;white-space:normal}
.trades tbody tr{cursor:pointer}.trades tbody tr:hover{background:#eff6ff}.win td:nth-child(10){color:#16a34a}
.loss td:nth-child(10){color:#dc2626}.months td{text-align:center}.scroll{max-height:520px;overflow:auto}
#detail{border:1px solid #e5e7eb;border-radius:8px;min-height:40px}.pos{color:#16a34a}.neg{color:#dc2626}
"""  # noqa: E501 - inline stylesheet
