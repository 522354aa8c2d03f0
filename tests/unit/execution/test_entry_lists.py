"""OTOCO entry lists: the pure planning (``entry_lists``) and the executor's handling of their legs."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ictbot.domain.errors import FinalError
from ictbot.domain.order import Order, OrderLeg, OrderStatus, OrderType, TimeInForce
from ictbot.domain.signal import EntryType
from ictbot.execution import ExecutionConfig
from ictbot.execution.entry_lists import entry_lists
from ictbot.execution.ids import entry_list_id, position_id_for
from ictbot.ports.venue import VenueOrderReport
from tests.unit.execution.fake_venue import FakeVenue, futures_btc, spot_btc
from tests.unit.execution.harness import make_harness, make_intent

D = Decimal
OTO_BTC = replace(spot_btc(), oto_allowed=True)
CONFIG = ExecutionConfig(background_tasks=False)


def test_a_market_entry_is_one_fok_list_whose_legs_sell_the_fee_reserved_quantity() -> None:
    intent = make_intent(qty="0.01", stop="49000", targets=("51000",))
    [only] = entry_lists(intent, OTO_BTC, CONFIG, 1)
    pid = only.entry.position_id
    assert (only.entry.type, only.entry.time_in_force, only.entry.price) == (OrderType.LIMIT, TimeInForce.FOK,
                                                                            D("50250.00"))
    assert [o.client_order_id for o in only.orders] == [f"{pid}-E0", f"{pid}-S0", f"{pid}-T0"]
    assert only.list_id == f"{pid}-L0" and {o.list_id for o in only.orders} == {only.list_id}
    assert (only.stop.type, only.stop.stop_price, only.stop.quantity) == (OrderType.STOP_LOSS_LIMIT, D("49000"),
                                                                         D("0.00999"))
    assert (only.target.type, only.target.price) == (OrderType.LIMIT_MAKER, D("51000"))


def test_two_targets_make_two_lists_and_unusable_cases_take_the_plain_path() -> None:
    lists = entry_lists(make_intent(qty="0.02", targets=("51000", "52000")), OTO_BTC, CONFIG, 1)
    assert [(lst.entry.client_order_id[-2:], lst.entry.quantity, lst.target.price) for lst in lists] == [
        ("E0", D("0.01"), D("51000")), ("E1", D("0.01"), D("52000"))]
    [close] = entry_lists(make_intent(qty="0.01", targets=("50100",)), OTO_BTC, CONFIG, 1)
    assert close.entry.price == D("50099.99")  # a target closer than the cap: the cap is a tick below it
    assert entry_lists(make_intent(qty="0.01", targets=("49990",)), OTO_BTC, CONFIG, 1) == []  # target < price
    assert entry_lists(make_intent(qty="0.01"), spot_btc(), CONFIG, 1) == []  # symbol without otoAllowed
    assert entry_lists(make_intent(qty="0.01"), replace(futures_btc(), oto_allowed=True), CONFIG, 1) == []
    assert entry_lists(make_intent(qty="0.01"), OTO_BTC, replace(CONFIG, entry_lists=False), 1) == []
    limit = entry_lists(make_intent(qty="0.01", entry_type=EntryType.LIMIT, entry="49500"), OTO_BTC, CONFIG, 1)
    assert [(lst.entry.type, lst.entry.price, lst.entry.time_in_force) for lst in limit] == [
        (OrderType.LIMIT, D("49500"), TimeInForce.GTC)]


class ListVenue(FakeVenue):
    """The fake venue with Binance's OTOCO (the legs wait off the book until the entry fills)."""

    refuse: tuple[str, ...] = ()  # list ids the venue refuses (-2010)

    async def place_otoco(self, entry: Order, stop: Order, target: Order, list_client_id: str
                          ) -> list[VenueOrderReport]:
        await self._before_create(entry)
        if list_client_id in self.refuse:
            raise FinalError("Account has insufficient balance for requested action.", code=-2010)
        created = self._create(replace(entry, list_id=""))
        if entry.type is OrderType.LIMIT and entry.time_in_force is TimeInForce.FOK:
            self._fill_market(created)
        legs = [self._create(replace(leg, list_id=list_client_id + "-pending")) for leg in (stop, target)]
        return [self.report(order) for order in (created, *legs)]


async def test_pending_legs_the_exchange_could_not_place_at_the_fill_are_replaced_by_the_bot() -> None:
    h = await make_harness(ListVenue([OTO_BTC]))
    entry = await h.executor.submit_intent(make_intent(qty="0.01", entry_type=EntryType.LIMIT, entry="49500",
                                                       stop="49000", targets=("51000",)))
    await h.settle()
    h.venue.fill(entry.client_order_id)
    await h.settle()
    assert h.executor.unprotected_positions() == []  # the list's legs cover it (all but the fee reserve)
    assert [c for c, _ in h.venue.calls] == ["place"]  # one request: the whole list
    for leg in ("S0", "T0"):  # e.g. the coins were held by an OCO protecting an earlier partial fill
        h.venue._finish(h.venue.orders[f"{entry.position_id}-{leg}"], OrderStatus.EXPIRED)
    await h.settle()
    stops = [o for o in h.venue.open_venue_orders() if o.order.leg is OrderLeg.STOP]
    assert [o.remaining for o in stops] == [D("0.01")]  # the bot's own OCO
    assert h.positions.get(entry.position_id) is not None and h.executor.unprotected_positions() == []


async def test_a_refused_second_tranche_list_does_not_flatten_the_filled_first_one() -> None:
    venue = ListVenue([OTO_BTC])
    h = await make_harness(venue)
    intent = make_intent(qty="0.02", stop="49000", targets=("51000", "52000"))
    venue.refuse = (entry_list_id(position_id_for(intent.signal.strategy_id, intent.signal.id), 1),)
    entry = await h.executor.submit_intent(intent)
    await h.settle()
    position = h.positions.get(entry.position_id)
    assert position is not None and position.qty == D("0.01")  # tranche 0 filled
    statuses = {o.client_order_id[-2:]: o.status for o in h.journal.orders.values()}
    assert statuses["E1"] is OrderStatus.REJECTED and statuses["S1"] is OrderStatus.REJECTED
    assert not [o for o in h.journal.orders.values() if o.leg is OrderLeg.EXIT]  # not flattened
    assert not [a for a in h.alerts if "flattening" in a.message]
    assert h.executor.unprotected_positions() == []


async def test_an_oco_refused_because_the_price_passed_a_leg_exits_with_a_warning_not_a_critical() -> None:
    # The plain path: the bot's OCO reaches the exchange after the market passed the target or the
    # stop (the demo at 6000x: a 250 ms round trip is ~25 minutes of market) -> -2010 price relation.
    venue = FakeVenue()
    h = await make_harness(venue)
    entry = await h.executor.submit_intent(make_intent(qty="0.01", entry_type=EntryType.LIMIT, entry="49500"))
    await h.settle()
    venue.reject_next = [FinalError("The relationship of the prices for the orders is not correct.", code=-2010)]
    venue.fill(entry.client_order_id)
    await h.settle()
    exits = [o for o in h.journal.orders.values() if o.leg is OrderLeg.EXIT]
    assert [o.status for o in exits] == [OrderStatus.FILLED]  # left at market
    assert h.positions.get(entry.position_id) is None
    levels = {a.level.value for a in h.alerts if "beyond its stop or target" in a.message}
    assert levels == {"warning"} and not [a for a in h.alerts if "flattening" in a.message]
