"""``s1_ema_cross`` whose backtest preparation holds for a second, loaded by path as a user's file.

The two-worker test needs work that lasts longer than the gap between its two workers' start-ups;
otherwise the first worker to start may run every trial before the second asks for one.
"""

from __future__ import annotations

import time
from typing import ClassVar

from ictbot.backtest.reference import S1EmaCross
from ictbot.domain.candle_frame import CandleFrame

HOLD_SECONDS = 1.0


class SlowEmaCross(S1EmaCross):
    kind: ClassVar[str] = "slow_ema_cross"

    def prepare(self, frame: CandleFrame) -> None:
        time.sleep(HOLD_SECONDS)
        super().prepare(frame)
