"""The columns of the event export (§14): core columns, kind-specific fields, their types and sources.

``Event.to_row()`` is the reference: the core columns in its order, then each kind's fields in the
order the indicators build them. Every field name has one type and one source column of the
compiled kernels' event matrices whatever kind carries it, so a column is one vectorised gather.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

CORE_COLUMNS: tuple[str, ...] = ("id", "kind", "direction", "tf", "anchor_time", "confirm_time", "anchor_index",
                                 "confirm_index", "top", "bottom", "level", "params_hash")
TIME_COLUMNS = frozenset({"anchor_time", "confirm_time"})

TIME_TYPE = pa.timestamp("ms", tz="UTC")
CORE_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(), "kind": pa.string(), "direction": pa.int64(), "tf": pa.string(),
    "anchor_time": TIME_TYPE, "confirm_time": TIME_TYPE, "anchor_index": pa.int64(), "confirm_index": pa.int64(),
    "top": pa.float64(), "bottom": pa.float64(), "level": pa.float64(), "params_hash": pa.string(),
}


@dataclass(frozen=True)
class FieldSpec:
    """``source``: the kernel column it is read from (``f0``, ``i1``, ``b0``, ``r0`` ...) or a special
    (``level``, ``tag``, ``label``, ``members``); ``type``: its Arrow type."""

    source: str
    type: pa.DataType


_F, _I, _B, _S = pa.float64(), pa.int64(), pa.bool_(), pa.string()

FIELDS: dict[str, FieldSpec] = {
    "level": FieldSpec("level", _F),
    "stream": FieldSpec("tag", _S), "source": FieldSpec("tag", _S), "window": FieldSpec("tag", _S),
    "label": FieldSpec("label", _S),
    "ce": FieldSpec("f0", _F), "mt": FieldSpec("f0", _F), "mean": FieldSpec("f0", _F),
    "excursion": FieldSpec("f0", _F), "a": FieldSpec("f0", _F), "body": FieldSpec("f0", _F),
    "body_sum": FieldSpec("f0", _F), "b": FieldSpec("f1", _F), "atr": FieldSpec("f1", _F),
    "swing_anchor_index": FieldSpec("i0", _I), "source_confirm_index": FieldSpec("i0", _I),
    "high_index": FieldSpec("i0", _I), "length": FieldSpec("i0", _I),
    "swing_confirm_index": FieldSpec("i1", _I), "taken_index": FieldSpec("i1", _I), "low_index": FieldSpec("i1", _I),
    "accepted": FieldSpec("b0", _B), "initial": FieldSpec("b0", _B), "displacement": FieldSpec("b0", _B),
    "mss": FieldSpec("b1", _B), "has_fvg": FieldSpec("b1", _B),
    "parent_id": FieldSpec("r0", _S), "old_id": FieldSpec("r0", _S), "swing_id": FieldSpec("r0", _S),
    "break_id": FieldSpec("r0", _S), "new_id": FieldSpec("r1", _S), "fvg_id": FieldSpec("r1", _S),
    "members": FieldSpec("members", pa.list_(pa.int64())),
}

_FVG_LIFE = ("fvg_touched", "fvg_ce_touched", "fvg_filled", "fvg_invalidated", "fvg_expired", "fvg_evicted", "ifvg",
             "ifvg_touched", "ifvg_invalidated", "ifvg_expired", "ifvg_evicted")
_OB_LIFE = ("ob_touched", "ob_mt_violated", "ob_invalidated", "ob_evicted", "breaker", "breaker_touched",
            "breaker_invalidated", "breaker_evicted")
_SWING = ("level", "stream", "accepted", "label")
_BREAK = ("level", "stream", "swing_id", "swing_anchor_index", "swing_confirm_index", "initial", "mss")
_TAKEN = ("level", "source", "source_confirm_index", "taken_index", "parent_id")

# per kind: its fields in the order the indicators build them (= the key order of the jsonl export)
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "swing_high": _SWING, "swing_low": _SWING,
    "swing_superseded": ("level", "stream", "old_id", "new_id"),
    "bos": _BREAK, "choch": _BREAK,
    "fvg": ("ce",), "fvg_extended": ("parent_id",),
    **dict.fromkeys(_FVG_LIFE, ("ce", "parent_id")),
    "order_block": ("mt", "stream", "break_id", "swing_anchor_index", "displacement", "has_fvg"),
    **dict.fromkeys(_OB_LIFE, ("mt", "stream", "parent_id")),
    "liquidity_pool": ("mean", "members"), "liquidity_pool_extended": ("mean", "members", "parent_id"),
    "liquidity_taken": _TAKEN, "sweep": (*_TAKEN, "excursion"), "run": (*_TAKEN, "excursion"),
    "impulse_leg": ("a", "b", "stream", "parent_id"),
    **dict.fromkeys(("ote_entered", "ote_exceeded", "leg_invalidated"), ("stream", "parent_id")),
    **dict.fromkeys(("previous_day", "previous_week", "previous_month"), ("high_index", "low_index")),
    "session_closed": ("window", "high_index", "low_index"),
    "displacement": ("body", "atr"), "displacement_with_fvg": ("parent_id", "fvg_id"),
    "displacement_leg": ("length", "body_sum", "atr"),
}

# which of top / bottom / level a kind carries (None otherwise), as ``kernels.convert`` builds events
HAS_LEVEL = frozenset({"swing_high", "swing_low", "swing_superseded", "bos", "choch", "liquidity_pool",
                       "liquidity_pool_extended", "liquidity_taken", "sweep", "run", "ote_entered", "ote_exceeded",
                       "leg_invalidated", "previous_day", "previous_week", "previous_month"})
NO_RANGE = frozenset({"swing_high", "swing_low", "swing_superseded", "bos", "choch", "liquidity_taken", "sweep", "run",
                      "displacement_with_fvg"})


def extra_columns(kinds: set[str] | frozenset[str]) -> list[str]:
    """The kind-specific columns of a table holding these kinds, sorted by name (the csv export's order)."""
    return sorted({name for kind in kinds for name in KIND_FIELDS[kind]} - set(CORE_COLUMNS))


def column_type(name: str) -> pa.DataType:
    return CORE_TYPES[name] if name in CORE_TYPES else FIELDS[name].type
