"""Columns → the exact ``Event`` records of ``ictbot.indicators.events`` (ids, fields, order).

Rows are converted kind by kind (one field builder per kind over plain Python lists) and written back
to their log positions.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import numpy as np

from ictbot.indicators.events import Event
from ictbot.indicators.kernels.batch import KernelColumns
from ictbot.indicators.kernels.codes import (
    ANCHOR,
    B0,
    B1,
    BOTTOM,
    CONFIRM,
    DIR,
    F0,
    F1,
    I0,
    I1,
    KIND,
    KINDS,
    LABELS,
    LEVEL,
    R0,
    R1,
    TAG,
    TAGS,
    TOP,
)

# which of top / bottom / level each kind carries (the rest are None)
_HAS_LEVEL = frozenset({"swing_high", "swing_low", "swing_superseded", "bos", "choch", "liquidity_pool",
                        "liquidity_pool_extended", "liquidity_taken", "sweep", "run", "ote_entered",
                        "ote_exceeded", "leg_invalidated", "previous_day", "previous_week", "previous_month"})
_NO_RANGE = frozenset({"swing_high", "swing_low", "swing_superseded", "bos", "choch", "liquidity_taken", "sweep",
                       "run", "displacement_with_fvg"})
_FVG_LIFE = frozenset({"fvg_touched", "fvg_ce_touched", "fvg_filled", "fvg_invalidated", "fvg_expired",
                       "fvg_evicted", "ifvg", "ifvg_touched", "ifvg_invalidated", "ifvg_expired", "ifvg_evicted"})
_OB_LIFE = frozenset({"ob_touched", "ob_mt_violated", "ob_invalidated", "ob_evicted", "breaker", "breaker_touched",
                      "breaker_invalidated", "breaker_evicted"})
_OTE = frozenset({"ote_entered", "ote_exceeded", "leg_invalidated"})

Builder = Callable[[int], dict[str, Any]]


def _builders(c: dict[str, list[Any]], ids: list[str], members: list[int]) -> dict[str, Builder]:
    """Per kind: row → its ``fields`` dict (same keys, order and Python types as the indicators)."""
    tag, level, f0, f1 = c["tag"], c["level"], c["f0"], c["f1"]
    i0, i1, r0, r1, b0, b1 = c["i0"], c["i1"], c["r0"], c["r1"], c["b0"], c["b1"]

    def ref(g: int) -> str | None:
        return ids[r0[g]] if r0[g] >= 0 else None

    out: dict[str, Builder] = {
        "fvg": lambda g: {"ce": f0[g]},
        "fvg_extended": lambda g: {"parent_id": ids[r0[g]]},
        "swing_high": lambda g: {"level": level[g], "stream": TAGS[tag[g]], "accepted": b0[g] == 1,
                                 "label": LABELS[i0[g]]},
        "swing_superseded": lambda g: {"level": level[g], "stream": TAGS[tag[g]], "old_id": ids[r0[g]],
                                       "new_id": ids[r1[g]]},
        "bos": lambda g: {"level": level[g], "stream": TAGS[tag[g]], "swing_id": ids[r0[g]],
                          "swing_anchor_index": i0[g], "swing_confirm_index": i1[g], "initial": b0[g] == 1,
                          "mss": b1[g] == 1},
        "order_block": lambda g: {"mt": f0[g], "stream": TAGS[tag[g]], "break_id": ids[r0[g]],
                                  "swing_anchor_index": i0[g], "displacement": b0[g] == 1, "has_fvg": b1[g] == 1},
        "liquidity_pool": lambda g: {"mean": f0[g], "members": members[i0[g]:i0[g] + i1[g]]},
        "liquidity_pool_extended": lambda g: {"mean": f0[g], "members": members[i0[g]:i0[g] + i1[g]],
                                              "parent_id": ids[r0[g]]},
        "liquidity_taken": lambda g: {"level": level[g], "source": TAGS[tag[g]], "source_confirm_index": i0[g],
                                      "taken_index": i1[g], "parent_id": ref(g)},
        "sweep": lambda g: {"level": level[g], "source": TAGS[tag[g]], "source_confirm_index": i0[g],
                            "taken_index": i1[g], "parent_id": ref(g), "excursion": f0[g]},
        "impulse_leg": lambda g: {"a": f0[g], "b": f1[g], "stream": TAGS[tag[g]], "parent_id": ids[r0[g]]},
        "previous_day": lambda g: {"high_index": i0[g], "low_index": i1[g]},
        "session_closed": lambda g: {"window": TAGS[tag[g]], "high_index": i0[g], "low_index": i1[g]},
        "displacement": lambda g: {"body": f0[g], "atr": f1[g]},
        "displacement_with_fvg": lambda g: {"parent_id": ids[r0[g]], "fvg_id": ids[r1[g]]},
        "displacement_leg": lambda g: {"length": i0[g], "body_sum": f0[g], "atr": f1[g]},
    }
    for kind in _FVG_LIFE:
        out[kind] = lambda g: {"ce": f0[g], "parent_id": ids[r0[g]]}
    for kind in _OB_LIFE:
        out[kind] = lambda g: {"mt": f0[g], "stream": TAGS[tag[g]], "parent_id": ids[r0[g]]}
    for kind in _OTE:
        out[kind] = lambda g: {"stream": TAGS[tag[g]], "parent_id": ids[r0[g]]}
    out["swing_low"] = out["swing_high"]
    out["choch"] = out["bos"]
    out["run"] = out["sweep"]
    out["previous_week"] = out["previous_month"] = out["previous_day"]
    return out


def to_events(cols: KernelColumns) -> list[Event]:
    """Build the ``Event`` list (same ids, fields and order as ``suite.compute(...).events``).

    The cyclic garbage collector is paused meanwhile: millions of new acyclic containers would trigger
    full collections that cost more than building them (measured: 7.5 s → 2.9 s for 598k events).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(cols)
    finally:
        if enabled:
            gc.enable()


def _build(cols: KernelColumns) -> list[Event]:
    total = len(cols)
    if total == 0:
        return []
    tf = cols.tf
    ints = cols.ints
    floats = cols.floats
    c: dict[str, list[Any]] = {name: ints[:, col].tolist() for name, col in (
        ("kind", KIND), ("dir", DIR), ("tag", TAG), ("anchor", ANCHOR), ("confirm", CONFIRM), ("i0", I0),
        ("i1", I1), ("r0", R0), ("r1", R1), ("b0", B0), ("b1", B1))}
    c.update({name: floats[:, col].tolist() for name, col in (
        ("top", TOP), ("bottom", BOTTOM), ("level", LEVEL), ("f0", F0), ("f1", F1))})
    anchor_times = cols.open_time[ints[:, ANCHOR]].tolist()
    confirm_times = (cols.open_time[ints[:, CONFIRM]] + cols.tf_ms).tolist()
    kind_names = [f"{tf}:{k}:" for k in KINDS]
    tag_names = [f"{t}:" for t in TAGS]
    ids = [f"{kind_names[k]}{tag_names[tg]}{at}:{ct}:{m}" for k, tg, at, ct, m in
           zip(c["kind"], c["tag"], anchor_times, confirm_times, cols.n.tolist(), strict=True)]
    hashes = [cols.hashes[s] for s in cols.slot.tolist()]
    builders = _builders(c, ids, cols.members.tolist())
    dirs, anchors, confirms = c["dir"], c["anchor"], c["confirm"]
    tops, bottoms, levels = c["top"], c["bottom"], c["level"]
    codes = ints[:, KIND]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(KINDS) + 1)).tolist()
    out: list[Any] = [None] * total
    for code, kind in enumerate(KINDS):
        if bounds[code] == bounds[code + 1]:
            continue
        rows = order[bounds[code]:bounds[code + 1]].tolist()
        make = builders[kind]
        ranged = kind not in _NO_RANGE
        leveled = kind in _HAS_LEVEL
        for g in rows:
            out[g] = Event(ids[g], kind, dirs[g], tf, anchors[g], confirms[g], anchor_times[g], confirm_times[g],
                           hashes[g], tops[g] if ranged else None, bottoms[g] if ranged else None,
                           levels[g] if leveled else None, make(g))
    return out
