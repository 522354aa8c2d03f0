"""``fast_init``: the generated constructor must be indistinguishable from the dataclass's own."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from ictbot.domain.order import Order, OrderSide, OrderType
from ictbot.domain.position import Position
from ictbot.domain.records import fast_init
from ictbot.domain.signal import Direction, EntryType, Signal


@fast_init
@dataclass(frozen=True, slots=True)
class _Sample:
    name: str
    count: int = 3
    tags: tuple[str, ...] = ()
    seen: frozenset[str] = field(default_factory=frozenset)
    log: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Plain:
    name: str
    count: int = 3
    tags: tuple[str, ...] = ()
    seen: frozenset[str] = field(default_factory=frozenset)
    log: list[int] = field(default_factory=list)


def test_same_values_defaults_and_factories_as_the_dataclass_init() -> None:
    fast = _Sample("a", tags=("x",))
    plain = _Plain("a", tags=("x",))
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    assert type(fast) is _Sample
    # default_factory runs per instance: no shared mutable default.
    other = _Sample("b")
    fast.log.append(1)
    assert other.log == []
    assert _Sample("c", 1, (), frozenset({"k"}), [7]).seen == frozenset({"k"})


def test_instances_stay_frozen_comparable_hashable_and_picklable() -> None:
    sample = _Sample("a", 2, ("t",), frozenset(), [])
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.name = "b"  # type: ignore[misc]
    assert sample == _Sample("a", 2, ("t",), frozenset(), [])
    assert sample != _Sample("a", 3, ("t",), frozenset(), [])
    assert pickle.loads(pickle.dumps(sample)) == sample
    assert copy.deepcopy(sample) == sample
    assert dataclasses.replace(sample, count=9).count == 9
    assert repr(sample).startswith("_Sample(name='a', count=2")


def test_wrong_arguments_fail_like_the_dataclass() -> None:
    with pytest.raises(TypeError):
        _Sample()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Sample("a", nope=1)  # type: ignore[call-arg]


def test_post_init_still_runs() -> None:
    with pytest.raises(ValueError, match="take-profit"):
        Signal("s", "BTCUSDT", Direction.LONG, EntryType.MARKET, Decimal(1), (), 0)
    with pytest.raises(ValueError, match="entry_price"):
        Signal("s", "BTCUSDT", Direction.LONG, EntryType.LIMIT, Decimal(1), (Decimal(3),), 0)


def test_signal_keeps_its_cached_id_slot() -> None:
    signal = Signal("s", "BTCUSDT", Direction.LONG, EntryType.MARKET, Decimal(1), (Decimal(3),), 0,
                    reference_price=Decimal(2))
    assert signal.id == signal.id and len(signal.id) == 16
    assert pickle.loads(pickle.dumps(signal)) == signal


def test_subclass_inheriting_the_init_gets_the_dataclass_one() -> None:
    class Child(_Sample):
        __slots__ = ("extra",)

    child = Child("a")
    assert type(child) is Child and child.count == 3 and child.seen == frozenset()


def test_hot_domain_records_use_it() -> None:
    position = Position("p", "BTCUSDT", "BTC", "USDT", qty=Decimal("0.5"))
    assert position.qty == Decimal("0.5") and position.trade_ids == frozenset()
    order = Order(client_order_id="c", symbol="BTCUSDT", side=OrderSide.BUY, type=OrderType.MARKET,
                  quantity=Decimal(1), created_at=0)
    assert type(order) is Order and dataclasses.replace(order, quantity=Decimal(2)).quantity == Decimal(2)
    for cls in (Position, Order, Signal):
        assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"  # type: ignore[misc]
        assert "_retype" in cls.__init__.__globals__  # type: ignore[misc]


def test_unsupported_shapes_are_refused() -> None:
    @dataclass(frozen=False, slots=True)
    class Mutable:
        x: int

    @dataclass(frozen=True)
    class NoSlots:
        x: int

    @dataclass(frozen=True, slots=True)
    class HiddenField:
        x: int
        y: int = field(default=0, init=False)

    @dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        x: int

    for cls in (Mutable, NoSlots, HiddenField, KeywordOnly):
        with pytest.raises(TypeError, match="fast_init"):
            fast_init(cls)
