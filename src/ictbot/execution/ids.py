"""Client order ids and the position ids derived from them.

Every order of one signal shares the digest part of ``client_order_id`` (``ict-<digest>-<leg><n>``),
so the position id is ``ict-<digest>`` and any of our orders names its position, even after a
crash with nothing in the journal.
"""

from __future__ import annotations

import re

from ictbot.domain.order import CLIENT_ID_PREFIX, OrderLeg, client_order_id

_OURS = re.compile(rf"^({re.escape(CLIENT_ID_PREFIX)}-[0-9a-f]{{24}})-([A-Z])(\d+)$")
_LEGS = {leg.value: leg for leg in OrderLeg}


def entry_client_id(strategy_id: str, signal_id: str) -> str:
    """The entry's id: attempt 0 always, so a re-delivered signal maps onto the same order."""
    return client_order_id(strategy_id, signal_id, OrderLeg.ENTRY, 0)


def position_id_for(strategy_id: str, signal_id: str) -> str:
    return position_id_of(entry_client_id(strategy_id, signal_id))


def position_id_of(client_id: str) -> str:
    """The position an order of ours belongs to: its client id without the leg part."""
    return client_id.rsplit("-", 1)[0]


def leg_client_id(position_id: str, leg: OrderLeg, attempt: int) -> str:
    return f"{position_id}-{leg.value}{attempt}"


def oco_list_id(position_id: str, attempt: int) -> str:
    return f"{position_id}-O{attempt}"


def entry_list_id(position_id: str, tranche: int) -> str:
    """``listClientOrderId`` of the OTOCO that carries tranche ``tranche`` of a position's entry."""
    return f"{position_id}-L{tranche}"


def is_entry_list(list_id: str) -> bool:
    return list_id.rsplit("-", 1)[-1].startswith("L")


def is_ours(client_id: str) -> bool:
    return _OURS.match(client_id) is not None


def parse_client_id(client_id: str) -> tuple[str, OrderLeg, int] | None:
    """(position id, leg, attempt) of one of our ids; None for a foreign id."""
    match = _OURS.match(client_id)
    if match is None or match.group(2) not in _LEGS:
        return None
    return match.group(1), _LEGS[match.group(2)], int(match.group(3))
