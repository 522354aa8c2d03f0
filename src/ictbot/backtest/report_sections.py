"""Report sections about the run itself: data quality and the departures from live trading."""

from __future__ import annotations

import html
from typing import Any


def esc(value: object) -> str:
    """HTML-escaped text of ``value`` (every report view uses this one)."""
    return html.escape(str(value))


def quality_section(document: dict[str, Any]) -> str:
    """Gaps, zero-volume bars, duplicates and out-of-order rows per symbol (``data_quality``)."""
    rows = []
    for symbol, entry in document["symbols"].items():
        quality = entry.get("data_quality")
        if not quality:
            continue
        counts = (f"{len(quality['gaps'])} gap(s), {quality['missing_candles']} missing {quality['timeframe']} "
                  f"candle(s) · {quality['zero_volume']} zero-volume flat bar(s) · {quality['duplicates']} "
                  f"duplicate(s) · {quality['out_of_order']} out of order · {quality['candles']:,} candles read")
        gaps = "".join(f"<li>gap {esc(g['start'])} → {esc(g['end'])}: {g['missing']} missing</li>"
                       for g in quality["gaps"][:20])
        more = f"<li>… {len(quality['gaps']) - 20} more in the JSON</li>" if len(quality["gaps"]) > 20 else ""
        zero = ", ".join(esc(t) for t in quality["zero_volume_first"])
        zero_line = f"<li>zero volume at {zero}{' …' if quality['zero_volume'] > 5 else ''}</li>" if zero else ""
        tone = "neg" if quality["gaps"] or quality["zero_volume"] else ""
        rows.append(f'<p class="{tone}"><b>{esc(symbol)}</b>: {counts}</p><ul>{gaps}{more}{zero_line}</ul>')
    return "<h2>Data quality</h2>" + "".join(rows) if rows else ""


def deviations_block(document: dict[str, Any]) -> str:
    """The run's departures from the live bot, shown before any number that depends on them."""
    rows = document.get("deviations_from_live") or []
    stops = "".join(f'<p class="note">{esc(symbol)}: trading stopped {esc(entry["trading_stopped"]["at"])} by '
                    f'the {esc(entry["trading_stopped"]["breaker"])} breaker (live: until an operator resets it)</p>'
                    for symbol, entry in document["symbols"].items() if entry.get("trading_stopped"))
    if not rows:
        return stops + '<p class="note">Deviations from live: none (the live configuration as the bot trades it).</p>'
    items = "".join(f"<li><b>{esc(d['setting'])}</b>: {esc(d['backtest'])} (live: {esc(d['live'])})</li>"
                    for d in rows)
    return f'{stops}<h2>Deviations from live</h2><ul class="deviations">{items}</ul>'
