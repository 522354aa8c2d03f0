"""Codes shared by the compiled kernels and the Python side (no numba import here).

Event columns: one int64 matrix ``I`` (codes, indexes, references) and one float64 matrix ``F``
(prices) per producing section, row = event. A reference to another event is ``slot << REF_SHIFT | row``
inside the kernels and a final log row after the merge (−1 = None).
"""

from __future__ import annotations

from ictbot.indicators.params import WINDOW_IDS

KINDS: tuple[str, ...] = (
    "swing_high", "swing_low", "swing_superseded",
    "bos", "choch",
    "fvg", "fvg_touched", "fvg_ce_touched", "fvg_filled", "fvg_invalidated", "fvg_expired", "fvg_evicted",
    "fvg_extended", "ifvg", "ifvg_touched", "ifvg_invalidated", "ifvg_expired", "ifvg_evicted",
    "order_block", "ob_touched", "ob_mt_violated", "ob_invalidated", "ob_evicted",
    "breaker", "breaker_touched", "breaker_invalidated", "breaker_evicted",
    "liquidity_pool", "liquidity_pool_extended", "liquidity_taken", "sweep", "run",
    "impulse_leg", "ote_entered", "ote_exceeded", "leg_invalidated",
    "previous_day", "previous_week", "previous_month",
    "session_closed",
    "displacement", "displacement_with_fvg", "displacement_leg",
)
K = {name: code for code, name in enumerate(KINDS)}

# event tags (§0 ids): "-", stream names, liquidity sources, window ids ("swing" is both a stream and a source)
TAGS: tuple[str, ...] = ("-", "internal", "swing", "pool", "day", "week", "month", *WINDOW_IDS)
T = {name: code for code, name in enumerate(TAGS)}

# liquidity source rank of the level sort key (§5): swing, pool, day, week, month, then the windows
SOURCE_RANK: tuple[int, ...] = tuple([0, 0, 0, 1, 2, 3, 4] + [5 + k for k in range(len(WINDOW_IDS))])

LABELS: tuple[str | None, ...] = (None, "HH", "LH", "LL", "HL", "EH", "EL")

# slots = log order inside a candle (§0): section 1..9, internal stream before swing stream
SLOT_SWINGS = (0, 1)
SLOT_STRUCTURE = (2, 3)
SLOT_FVG = 4
SLOT_OB = (5, 6)
SLOT_LIQUIDITY = 7
SLOT_PD = 8
SLOT_PREVIOUS = 9
SLOT_SESSIONS = 10
SLOT_DISPLACEMENT = 11
N_SLOTS = 12

# int64 columns
# (no anchor-time column: every event's anchor time is the open time of its anchor candle)
KIND, DIR, TAG, ANCHOR, CONFIRM, I0, I1, R0, R1, B0, B1 = range(11)
NI = 11
INT = "int32"  # dtype of the int matrix (indexes < 2**31, refs = slot << 27 | row)
# float64 columns (NaN where the kind has None)
TOP, BOTTOM, LEVEL, F0, F1 = range(5)
NF = 5

REF_SHIFT = 27

# kind codes as plain ints (numba reads module globals of int type as constants)
(K_SWING_HIGH, K_SWING_LOW, K_SWING_SUPERSEDED, K_BOS, K_CHOCH, K_FVG, K_FVG_TOUCHED, K_FVG_CE_TOUCHED,
 K_FVG_FILLED, K_FVG_INVALIDATED, K_FVG_EXPIRED, K_FVG_EVICTED, K_FVG_EXTENDED, K_IFVG, K_IFVG_TOUCHED,
 K_IFVG_INVALIDATED, K_IFVG_EXPIRED, K_IFVG_EVICTED, K_ORDER_BLOCK, K_OB_TOUCHED, K_OB_MT_VIOLATED,
 K_OB_INVALIDATED, K_OB_EVICTED, K_BREAKER, K_BREAKER_TOUCHED, K_BREAKER_INVALIDATED, K_BREAKER_EVICTED,
 K_LIQUIDITY_POOL, K_LIQUIDITY_POOL_EXTENDED, K_LIQUIDITY_TAKEN, K_SWEEP, K_RUN, K_IMPULSE_LEG, K_OTE_ENTERED,
 K_OTE_EXCEEDED, K_LEG_INVALIDATED, K_PREVIOUS_DAY, K_PREVIOUS_WEEK, K_PREVIOUS_MONTH, K_SESSION_CLOSED,
 K_DISPLACEMENT, K_DISPLACEMENT_WITH_FVG, K_DISPLACEMENT_LEG) = range(43)
(T_NONE, T_INTERNAL, T_SWING, T_POOL, T_DAY, T_WEEK, T_MONTH, T_ASIA_KZ, T_LONDON_KZ, T_NY_AM_KZ, T_LONDON_CLOSE_KZ,
 T_NY_PM_KZ, T_TOKYO, T_LONDON, T_NEW_YORK) = range(15)
