"""Row names of the resumable FVG state's matrices (plain ints: numba freezes them as constants)."""

from __future__ import annotations

# int64 parameters ``pi``
REQUIRE_BODY, REQUIRE_CLOSE, REQUIRE_DISP, MAX_AGE, MERGE_ADJACENT, MAX_ACTIVE, SLOT, ATR_N = range(8)
N_PI = 8

# int64 scalars ``s``: zone count, heap sizes, creation-order queues and heads, live counts per direction,
# expiry cursor, the gap formed at the previous candle, the global event row count, ATR count, displacement
# direction of the previous candle, next candle index expected
(NZ, DSIZE, USIZE, NUP, HUP, NDN, HDN, ACT_UP, ACT_DN, EXP_HEAD, PREV_GAP, ROWS, ATR_COUNT, DISP_PREV,
 NEXT_I) = range(15)
N_S = 15

# float64 scalars and parameters ``sf``
ATR_SEED, ATR_VALUE, ATR_PREV_CLOSE, MIN_SIZE, K_ATR, K_BODY, MIN_BODY_RATIO = range(7)
N_SF = 7

# per-zone int64 rows ``zi[row, zone]`` and float64 rows ``zf[row, zone]``
Z_DIR, Z_ROLE, Z_ANCHOR, Z_ATIME, Z_CONFIRM, Z_EVENT, Z_VER, Z_TOUCHED, Z_MIDHIT, Z_FILLED, Z_ALIVE = range(11)
N_ZI = 11
Z_TOP, Z_BOT, Z_MID, Z_THR = range(4)
N_ZF = 4

# the two lazy-deletion heaps: keys ``heap_k[row]``, (seq, version) ``heap_i[row]``
HEAP_DN, HEAP_UP = range(2)
HEAP_DN_SEQ, HEAP_DN_VER, HEAP_UP_SEQ, HEAP_UP_VER = range(4)

# zone-number queues ``order[row]``: creation order per direction, and the per-candle scratch list
ORDER_UP, ORDER_DN, ORDER_FOUND = range(3)
