from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ictbot.adapters.storage.codecs import (
    fill_from_row,
    fill_to_row,
    order_from_row,
    order_to_row,
    position_from_row,
    position_to_row,
)
from ictbot.domain.order import OrderStatus
from tests.unit.storage.samples import sample_fill, sample_order, sample_position


def test_order_round_trip_keeps_every_field() -> None:
    order = sample_order()
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert len(order.fees) == 2 and order.trade_ids == {"t-1", "t-2"}
    assert order_from_row(order_to_row(order)) == order


def test_order_with_optional_fields_absent_round_trips() -> None:
    order = replace(sample_order(), price=None, stop_price=None, time_in_force=None, exchange_order_id=None)
    assert order_from_row(order_to_row(order)) == order


def test_fill_round_trip() -> None:
    fill = sample_fill("cid", "123", "0.00100000", "0", "USDT", 5)
    assert fill_from_row(fill_to_row(fill)) == fill


def test_position_round_trip_and_open_flag() -> None:
    position = sample_position()
    row = position_to_row(position)
    assert row["is_open"] is True
    assert position_from_row(row) == position
    flat = replace(position, qty=Decimal("0.000"), closed_at=1_700_000_100_000, stop_loss=None, take_profits=())
    row = position_to_row(flat)
    assert row["is_open"] is False
    assert position_from_row(row) == flat


@settings(max_examples=40, deadline=None)
@given(
    amounts=st.lists(
        st.tuples(st.sampled_from(["BTC", "USDT", "BNB"]), st.decimals(allow_nan=False, allow_infinity=False)),
        max_size=3, unique_by=lambda pair: pair[0],
    ),
    ids=st.frozensets(st.text(min_size=1, max_size=12), max_size=5),
)
def test_fee_and_trade_id_collections_round_trip(amounts: list[tuple[str, Decimal]], ids: frozenset[str]) -> None:
    order = replace(sample_order(), fees=tuple(sorted(amounts)), trade_ids=ids)
    back = order_from_row(order_to_row(order))
    assert back.fees == order.fees
    assert [str(a) for _, a in back.fees] == [str(a) for _, a in order.fees]  # same digits, not only equal
    assert back.trade_ids == ids
