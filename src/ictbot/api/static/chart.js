// The market chart: lightweight-charts candles plus one series primitive that paints the ICT
// zones, levels and bands behind the candles, markers for sweeps and fills, price lines for the
// open positions' entry, stop and targets. What was drawn is published on the container as
// data-candles, data-markers and data-overlays (JSON: overlay type -> count) for tests and tools.

import { countByType } from "./overlays.js";
import { timeframeMs } from "./format.js";

const LWC = window.LightweightCharts;
export const CHART_COLORS = { background: "#171b21", text: "#aab3bf", grid: "#20252d", up: "#26a269", down: "#e5484d" };

/** Logical bar index of a time (fractional between bars; negative before the first bar). */
export function logicalOf(times, ms, stepMs) {
  if (!times.length) return null;
  if (ms <= times[0]) return (ms - times[0]) / stepMs;
  let lo = 0, hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid] <= ms) lo = mid; else hi = mid - 1;
  }
  return lo + (ms - times[lo]) / stepMs;
}

class ZonePrimitive {
  constructor(owner) { this.owner = owner; this.shapes = []; this.requestUpdate = null; }
  attached(param) { this.requestUpdate = param.requestUpdate; }
  detached() { this.requestUpdate = null; }
  set(shapes) { this.shapes = shapes; if (this.requestUpdate) this.requestUpdate(); }
  updateAllViews() {}
  paneViews() {
    return [{ zOrder: () => "bottom", renderer: () => ({ draw: () => {}, drawBackground: (target) => this.draw(target) }) }];
  }

  /** The x coordinate of a time: a bar's open time is its left edge, null (open-ended) the right edge.
   * The library maps whole logical indexes only (a fractional one comes back as 0): interpolate
   * between the two bars around the time. */
  xOf(ms, width) {
    if (ms === null || ms === undefined) return width;
    const { chart, times, stepMs } = this.owner;
    const logical = logicalOf(times, ms, stepMs);
    if (logical === null) return 0;
    const scale = chart.timeScale();
    const whole = Math.floor(logical);
    const c0 = scale.logicalToCoordinate(whole), c1 = scale.logicalToCoordinate(whole + 1);
    if (c0 === null || c1 === null) return 0;
    return c0 + (logical - whole - 0.5) * (c1 - c0);
  }

  draw(target) {
    const { series } = this.owner;
    const x = (ms, width) => this.xOf(ms, width);
    target.useMediaCoordinateSpace(({ context: ctx, mediaSize }) => {
      const width = mediaSize.width, height = mediaSize.height;
      ctx.font = "10px system-ui, sans-serif";
      for (const s of this.shapes) {
        if (s.shape === "band") {
          const x0 = x(s.t0, width), x1 = x(s.t1, width);
          if (x1 < 0 || x0 > width) continue;
          ctx.fillStyle = s.fill; ctx.fillRect(x0, 0, Math.max(1, x1 - x0), height);
          ctx.fillStyle = "rgba(170,179,191,.6)"; ctx.fillText(s.label, x0 + 3, height - 6);
        } else if (s.shape === "box") {
          const y0 = series.priceToCoordinate(s.top), y1 = series.priceToCoordinate(s.bottom);
          if (y0 === null || y1 === null) continue;
          const x0 = Math.max(0, s.t0 === null ? 0 : x(s.t0, width)), x1 = x(s.t1, width);
          if (x1 <= x0) continue;
          ctx.fillStyle = s.fill; ctx.fillRect(x0, y0, x1 - x0, Math.max(1, y1 - y0));
          if (s.stroke) {
            ctx.strokeStyle = s.stroke; ctx.setLineDash(s.dashed ? [4, 3] : []);
            ctx.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0 - 1, Math.max(1, y1 - y0)); ctx.setLineDash([]);
          }
          ctx.fillStyle = s.stroke || "rgba(215,221,229,.5)"; ctx.fillText(s.label, x0 + 3, y0 + 10);
        } else if (s.shape === "line") {
          const y = series.priceToCoordinate(s.level);
          if (y === null) continue;
          const x0 = Math.max(0, x(s.t0, width)), x1 = x(s.t1, width);
          ctx.strokeStyle = s.color; ctx.setLineDash(s.dashed ? [5, 4] : []);
          ctx.beginPath(); ctx.moveTo(x0, y + 0.5); ctx.lineTo(x1, y + 0.5); ctx.stroke(); ctx.setLineDash([]);
          ctx.fillStyle = s.color; ctx.fillText(s.label, Math.min(x1, width) - ctx.measureText(s.label).width - 4, y - 3);
        }
      }
    });
  }
}

export class MarketChart {
  constructor(container) {
    this.container = container;
    this.times = [];
    this.stepMs = 300e3;
    this.shapes = [];
    this.markers = [];
    this.drawn = [];
    this.priceLines = [];
    this.chart = LWC.createChart(container, {
      autoSize: true,
      layout: { attributionLogo: false, background: { type: "solid", color: CHART_COLORS.background }, textColor: CHART_COLORS.text },
      grid: { vertLines: { color: CHART_COLORS.grid }, horzLines: { color: CHART_COLORS.grid } },
      timeScale: { timeVisible: true, secondsVisible: false, rightOffset: 8 },
      crosshair: { mode: LWC.CrosshairMode.Normal },
    });
    this.series = this.chart.addSeries(LWC.CandlestickSeries, { upColor: CHART_COLORS.up, downColor: CHART_COLORS.down,
      borderVisible: false, wickUpColor: CHART_COLORS.up, wickDownColor: CHART_COLORS.down });
    this.zones = new ZonePrimitive(this);
    this.series.attachPrimitive(this.zones);
    this.markerLayer = LWC.createSeriesMarkers(this.series, []);
  }

  /** Price format from the symbol's tick ("0.01" -> 2 decimals, moves of 0.01). */
  setTick(tick, decimals) {
    if (!(Number(tick) > 0)) return;
    this.series.applyOptions({ priceFormat: { type: "price", precision: decimals, minMove: Number(tick) } });
  }

  setCandles(candles, timeframe) {
    this.stepMs = timeframeMs(timeframe);
    this.times = candles.map((c) => c.open_time_ms);
    this.series.setData(candles.map(toBar));
    this.publish();
  }

  /** A live candle: replaces the last bar or appends a new one (older bars are ignored). */
  updateCandle(candle) {
    const last = this.times[this.times.length - 1];
    if (last !== undefined && candle.open_time_ms < last) return;
    const isNewBar = candle.open_time_ms !== last;
    if (isNewBar) this.times.push(candle.open_time_ms);
    this.series.update(toBar(candle));
    if (isNewBar) this.setOverlays(this.shapes, this.markers); else this.publish();
  }

  setOverlays(shapes, markers) {
    this.shapes = shapes;
    this.markers = markers;
    this.zones.set(shapes.filter((s) => s.shape !== "marker"));
    // a marker sits on the bar its time falls in; one before the first or after the last bar loaded
    // is left out (the library would put it on a wrong bar) until its candle arrives
    const barOf = (ms) => {
      const logical = logicalOf(this.times, ms, this.stepMs);
      const index = logical === null ? -1 : Math.floor(logical);
      return index >= 0 && index < this.times.length && ms < this.times[index] + this.stepMs ? this.times[index] : null;
    };
    const drawn = [...shapes.filter((s) => s.shape === "marker"), ...markers].filter((m) => barOf(m.t) !== null);
    this.drawn = [...shapes.filter((s) => s.shape !== "marker"), ...drawn];
    this.markerLayer.setMarkers(drawn
      .map((m) => ({ time: barOf(m.t) / 1000, position: m.position, color: m.color, shape: m.marker, text: m.text }))
      .sort((a, b) => a.time - b.time));
    this.publish();
  }

  /** Dashed price lines: entry (blue), stop (red), targets (green) of the open positions. */
  setPositionLines(lines) {
    for (const line of this.priceLines) this.series.removePriceLine(line);
    this.priceLines = lines.map((l) => this.series.createPriceLine({ price: Number(l.price), color: l.color,
      lineWidth: 1, lineStyle: LWC.LineStyle.Dashed, axisLabelVisible: true, title: l.title }));
    this.container.dataset.priceLines = String(this.priceLines.length);
  }

  /** Scroll so `ms` is in view with some context on both sides. */
  showTime(ms) {
    const logical = logicalOf(this.times, ms, this.stepMs);
    if (logical === null) return;
    this.chart.timeScale().setVisibleLogicalRange({ from: logical - 60, to: logical + 30 });
  }

  /** What is on the chart now, for tests and tools: candles, markers, overlays per type. */
  publish() {
    const counts = countByType(this.drawn);
    this.container.dataset.candles = String(this.times.length);
    this.container.dataset.markers = String(this.drawn.filter((s) => s.shape === "marker").length);
    this.container.dataset.overlays = JSON.stringify(counts);
  }
}

function toBar(c) {
  return { time: c.open_time_ms / 1000, open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) };
}
