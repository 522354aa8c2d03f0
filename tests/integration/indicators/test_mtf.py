"""Multi-timeframe composition (§10, §12.5) and the bus service."""

from __future__ import annotations

import asyncio
import pickle

import numpy as np
import pytest

from ictbot.adapters.files import read_candle_file
from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.candle import Candle
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.events import CandleStored, IndicatorsUpdated
from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.indicators.resampling import Resampler, resample
from ictbot.indicators.service import IndicatorService
from ictbot.indicators.suite import compute
from tests.conftest import DATA, require_shared

H1 = Timeframe.H1
M5 = Timeframe.M5


@pytest.mark.parametrize(
    ("target", "native_file"),
    [(H1, "BTC_USDT-1h.feather"), (Timeframe.H4, "BTC_USDT-4h.feather"), (Timeframe.D1, "BTC_USDT-1d.feather")],
)
def test_resampled_5m_equals_native_htf(btc_5m_feather: CandleFrame, target: Timeframe, native_file: str) -> None:
    five = btc_5m_feather.slice(0, 12 * 24 * 20)
    hourly, complete = resample(five, M5, target)
    assert all(complete) and len(hourly) == 20 * 86_400_000 // target.ms
    native = read_candle_file(require_shared(DATA / "feather" / "harthor_marketlab" / native_file)).between(
        int(hourly.open_time[0]), int(hourly.open_time[-1]) + 1
    )
    np.testing.assert_array_equal(hourly.open_time, native.open_time)
    for name in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(hourly, name), getattr(native, name))


def test_resampler_closes_incomplete_bucket_after_a_gap() -> None:
    sampler = Resampler(M5, H1)
    t0 = 1_704_067_200_000
    assert sampler.add(t0, 1, 2, 0.5, 1.5) == []
    bars = sampler.add(t0 + 2 * 3_600_000, 1.5, 3, 1, 2)  # next candle two hours later
    assert len(bars) == 1 and bars[0].open_time == t0 and not bars[0].complete and bars[0].count == 1


def _feed_base(engine: MultiTimeframeEngine, frame: CandleFrame) -> list[IndicatorSnapshot]:
    snaps = []
    for candle in frame.to_candles("BTCUSDT", M5):
        snap = engine.on_candle(candle)
        assert snap is not None
        snaps.append(snap)
    return snaps


def test_htf_events_visible_only_after_the_htf_close(btc_5m_feather: CandleFrame) -> None:
    five = btc_5m_feather.slice(0, 12 * 24 * 8)
    engine = MultiTimeframeEngine(M5, [H1, Timeframe.H4], resample_higher=True)
    snaps = _feed_base(engine, five)
    hourly, _ = resample(five, M5, H1)
    batch = compute(hourly.open_time, hourly.open, hourly.high, hourly.low, hourly.close, H1).events
    seen: dict[str, int] = {}
    for snap in snaps:
        view = snap.view("1h")
        if view is None:
            continue
        assert view.last_close_time <= snap.time
        for event in view.new_events:
            assert event.confirm_time <= snap.time
            assert int(five.open_time[event.extra["base_confirm_index"]]) + M5.ms == event.confirm_time
            seen.setdefault(event.id, snap.time)
    # every HTF event shows up exactly at the base candle closing with its HTF candle, never earlier
    assert {e.id: e.confirm_time for e in batch} == seen
    last = snaps[-1]
    assert last.base_timeframe == "5m" and set(last.views) == {"5m", "1h", "4h"}


def test_delivered_htf_candles_equal_resampled_ones(btc_5m_feather: CandleFrame) -> None:
    five = btc_5m_feather.slice(0, 12 * 24 * 2)
    hourly, _ = resample(five, M5, H1)
    auto = MultiTimeframeEngine(M5, [H1], resample_higher=True)
    fed = MultiTimeframeEngine(M5, [H1])
    hours = {c.open_time + H1.ms: c for c in hourly.to_candles("BTCUSDT", H1)}
    for candle in five.to_candles("BTCUSDT", M5):
        a = auto.on_candle(candle)
        htf = hours.get(candle.close_time)
        if htf is not None:  # the candle service sends the closing HTF candle first
            assert fed.on_candle(htf) is None
        b = fed.on_candle(candle)
        assert a is not None and b is not None
        assert a.view("1h") == b.view("1h") and a.view("5m") == b.view("5m")


def test_snapshot_contents(btc_5m_raw: CandleFrame) -> None:
    engine = MultiTimeframeEngine(M5, [Timeframe.M15], resample_higher=True, recent_limit=50)
    snap = _feed_base(engine, btc_5m_raw.slice(0, 3000))[-1]
    view = snap.view("5m")
    assert view is not None and view.atr is not None and view.dealing_range is not None
    assert len(view.recent_events) == 50 and view.leg is not None
    high, low = view.dealing_range
    assert high > low
    assert all(z.kind == "fvg" for z in view.fvgs) and all(z.kind == "order_block" for z in view.order_blocks)
    assert view.liquidity and all(level.side in (1, -1) for level in view.liquidity)
    ids = [level.id for level in view.liquidity]
    assert len(ids) == len(set(ids))
    buys = [level.level for level in view.liquidity if level.side > 0]
    sells = [level.level for level in view.liquidity if level.side < 0]
    assert len(buys) <= 25 and len(sells) == 25  # nearest levels per side (liquidity_limit)
    assert buys == sorted(buys) and sells == sorted(sells, reverse=True)
    assert min(buys, default=view.close) >= view.close >= max(sells)
    alive = engine.engine("BTCUSDT", M5).liquidity.alive_levels()
    assert sells == sorted((level.level for level in alive if level.side < 0), reverse=True)[:25]
    # open candles and redeliveries are ignored
    last = btc_5m_raw.slice(2999, 3000).to_candles("BTCUSDT", M5)[0]
    assert engine.on_candle(last) is None
    assert (
        engine.on_candle(
            Candle(
                "BTCUSDT",
                M5,
                last.open_time + M5.ms,
                last.open,
                last.high,
                last.low,
                last.close,
                last.volume,
                closed=False,
            )
        )
        is None
    )


def test_checkpoint_and_warm_up(btc_5m_raw: CandleFrame) -> None:
    frame = btc_5m_raw.slice(0, 1200)
    engine = MultiTimeframeEngine(M5, [H1], resample_higher=True)
    assert engine.warm_up("BTCUSDT", M5, frame.slice(0, 1000), limit=800) == 800
    assert engine.is_warm("BTCUSDT")  # 800 five-minute candles = 66 one-hour candles >= 21
    assert not MultiTimeframeEngine(M5, [H1]).is_warm("BTCUSDT")
    hourly = engine.engine("BTCUSDT", H1)
    # 800 candles from 16:40: 66 full hours plus the incomplete 16:00 bucket
    assert hourly.count == 67 and hourly.fvg.book.journal == []  # journals consumed during warm-up
    clone = MultiTimeframeEngine.restore(engine.checkpoint())
    for candle in frame.slice(1000, 1200).to_candles("BTCUSDT", M5):
        assert engine.on_candle(candle) == clone.on_candle(candle)


async def test_service_publishes_one_snapshot_per_base_candle(btc_5m_raw: CandleFrame) -> None:
    bus = EventBus()
    engine = MultiTimeframeEngine(M5, [H1])
    service = IndicatorService(bus, engine)
    got: list[IndicatorsUpdated] = []

    async def collect(envelope: Envelope) -> None:
        got.append(envelope.payload)

    bus.subscribe(Topic.INDICATORS_UPDATED, collect, name="test")
    service.start()
    await bus.start()
    try:
        frame = btc_5m_raw.slice(0, 24)
        hourly, _ = resample(frame, M5, H1)
        hours = {c.open_time + H1.ms: c for c in hourly.to_candles("BTCUSDT", H1)}
        for candle in frame.to_candles("BTCUSDT", M5):
            if candle.close_time in hours:
                await bus.publish(Topic.CANDLE_STORED, CandleStored(hours[candle.close_time]))
            await bus.publish(Topic.CANDLE_STORED, CandleStored(candle))
        await bus.wait_idle()
        await asyncio.sleep(0)
    finally:
        service.stop()
        await bus.stop()
    assert len(got) == 24 and service.published == 24
    assert [u.snapshot.time for u in got] == [u.candle.close_time for u in got]
    assert got[-1].snapshot.view("1h") is not None and got[10].snapshot.view("1h") is None


def test_higher_timeframe_must_be_above_base() -> None:
    with pytest.raises(ValueError, match="not above"):
        MultiTimeframeEngine(H1, [M5])


def test_htf_zones_are_tracked_on_base_candles_after_their_close(btc_5m_feather: CandleFrame) -> None:
    five = btc_5m_feather.slice(0, 12 * 24 * 6)
    engine = MultiTimeframeEngine(M5, [H1], resample_higher=True)
    snap = _feed_base(engine, five)[-1]
    view = snap.view("1h")
    assert view is not None
    close = five.open_time + M5.ms
    checked = 0
    for zone in (*view.fvgs, *view.ifvgs, *view.order_blocks, *view.breakers):
        after = close > zone.confirm_time  # base candles from j(k) + 1 on
        hit = (five.low <= zone.top) if zone.direction > 0 else (five.high >= zone.bottom)
        first = np.nonzero(after & hit)[0]
        expected = int(close[first[0]]) if first.size else None
        assert zone.extra["base_touched_time"] == expected, zone.id
        checked += expected is not None
    assert checked > 5


def test_lazy_views_show_the_state_at_their_snapshot_time(btc_5m_raw: CandleFrame) -> None:
    """Views are built on first read; a snapshot read long after the engine moved on must not see later state."""
    frame = btc_5m_raw.slice(0, 1500)
    eager = MultiTimeframeEngine(M5, [Timeframe.M15, H1], resample_higher=True)
    lazy = MultiTimeframeEngine(M5, [Timeframe.M15, H1], resample_higher=True)
    expected: dict[int, dict[str, object]] = {}
    kept: dict[int, IndicatorSnapshot] = {}
    for k, candle in enumerate(frame.to_candles("BTCUSDT", M5)):
        now = eager.on_candle(candle)
        assert now is not None
        later = lazy.on_candle(candle)  # dropped unread unless kept below
        assert later is not None and later.time == now.time
        if k % 3 == 0:
            expected[k] = dict(now.views)
            kept[k] = later
        if k == 700:  # a checkpoint while a snapshot is still unread
            lazy = MultiTimeframeEngine.restore(lazy.checkpoint())
    assert len(kept) == 500
    changed = 0
    for k, snap in kept.items():
        assert dict(snap.views) == expected[k], k
        changed += expected[k]["5m"] != expected.get(k - 3, {}).get("5m")
    assert changed > 400  # the views really differ from candle to candle
    last = kept[max(kept)]
    assert pickle.loads(pickle.dumps(last)) == last and type(pickle.loads(pickle.dumps(last)).views) is dict


def test_views_partly_read_early_and_the_rest_late_show_their_snapshot_time(btc_5m_raw: CandleFrame) -> None:
    """Each view is built on its own first read; ``in``/``len``/iteration build none. Views read right
    away and views first read after the engine moved on must both show the snapshot's state."""
    frame = btc_5m_raw.slice(0, 900)
    eager = MultiTimeframeEngine(M5, [Timeframe.M15, H1], resample_higher=True)
    lazy = MultiTimeframeEngine(M5, [Timeframe.M15, H1], resample_higher=True)
    expected: dict[int, dict[str, object]] = {}
    kept: dict[int, IndicatorSnapshot] = {}
    early: dict[int, object] = {}
    for k, candle in enumerate(frame.to_candles("BTCUSDT", M5)):
        now = eager.on_candle(candle)
        later = lazy.on_candle(candle)
        assert now is not None and later is not None
        assert list(later.views) == list(now.views) and len(later.views) == len(now.views)
        assert all(tf in later.views for tf in now.views) and "4h" not in later.views
        assert later.views.get("4h") is None
        if k % 2 == 0:
            expected[k] = dict(now.views)
            kept[k] = later
            tf = ("5m", "15m", "1h")[k % 3]
            if tf in later.views:
                early[k] = later.views[tf]  # one view read now, the others only at the end
    for k, snap in kept.items():
        assert dict(snap.views) == expected[k], k
        tf = ("5m", "15m", "1h")[k % 3]
        if k in early:
            assert snap.views[tf] is early[k]
    assert len(early) > 400
