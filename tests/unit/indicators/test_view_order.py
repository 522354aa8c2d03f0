"""A view's zones come in creation order however rarely the views are read.

Order blocks (and breakers) of the internal and the swing structure streams share one view; the
engine consumes the books' change journals when a view is read, so without care the order would
depend on when strategies looked.
"""

from __future__ import annotations

from ictbot.adapters.files import read_candle_file
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.mtf import MultiTimeframeEngine
from tests.conftest import DATA, require_shared


def _views_every(step: int, rows: list[tuple[int, float, float, float, float]]) -> dict[int, object]:
    engine = MultiTimeframeEngine(Timeframe.M5, (Timeframe.H1,), resample_higher=True)
    seen: dict[int, object] = {}
    for j, (t, o, h, lo, c) in enumerate(rows):
        if j % step != step - 1:
            # dropped at once: a snapshot still held when the next candle comes has its views built then
            engine.on_values("BTCUSDT", Timeframe.M5, t, o, h, lo, c)
            continue
        snapshot = engine.on_values("BTCUSDT", Timeframe.M5, t, o, h, lo, c)
        assert snapshot is not None
        seen[j] = {tf: (v.order_blocks, v.breakers, v.fvgs, v.ifvgs) for tf, v in snapshot.views.items()}
        del snapshot
    return seen


def test_zone_order_does_not_depend_on_when_views_are_read() -> None:
    frame = read_candle_file(require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv"))
    rows = list(zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(), frame.low.tolist(),
                    frame.close.tolist(), strict=True))[:]
    every = _views_every(1, rows)
    sparse = _views_every(600, rows)
    assert sparse
    mixed = 0
    for j, views in sparse.items():
        assert views == every[j], j
        blocks = views["5m"][0]  # type: ignore[index]
        mixed += len({zone.extra["stream"] for zone in blocks}) > 1
    assert mixed  # both streams' blocks were in one view: the order was actually exercised
