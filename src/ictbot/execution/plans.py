"""Protection plans: the stop and targets an entry is protected with, until its position carries them.

A plan lives in memory and, when a ``KeyValueStore`` is given, durably under
``execution.plan.<position id>`` so that a process restarted between an entry and its first fill
still protects the fill with the planned stop (not a fallback).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from ictbot.ports.repositories import KeyValueStore


@dataclass(frozen=True, slots=True)
class Plan:
    strategy_id: str
    signal_id: str
    stop_loss: Decimal
    take_profits: tuple[Decimal, ...]

    def to_json(self) -> str:
        return json.dumps({
            "strategy_id": self.strategy_id, "signal_id": self.signal_id, "stop_loss": str(self.stop_loss),
            "take_profits": [str(t) for t in self.take_profits],
        })

    @classmethod
    def from_json(cls, raw: str) -> Plan:
        data = json.loads(raw)
        return cls(data["strategy_id"], data["signal_id"], Decimal(data["stop_loss"]),
                   tuple(Decimal(t) for t in data["take_profits"]))


class PlanBook:
    def __init__(self, store: KeyValueStore | None = None) -> None:
        self._store = store
        self._plans: dict[str, Plan] = {}

    @property
    def store(self) -> KeyValueStore | None:
        return self._store

    def stage(self, position_id: str, plan: Plan) -> dict[str, str]:
        """Keep ``plan`` in memory and return the key-values that make it durable (none without a
        store). The caller writes them together with the entry order, in one transaction."""
        self._plans[position_id] = plan
        return {} if self._store is None else {_key(position_id): plan.to_json()}

    async def get(self, position_id: str) -> Plan | None:
        plan = self._plans.get(position_id)
        if plan is None and self._store is not None:
            raw = await self._store.get(_key(position_id))
            if raw:
                plan = self._plans[position_id] = Plan.from_json(raw)
        return plan

    async def forget(self, position_id: str) -> None:
        self._plans.pop(position_id, None)
        if self._store is not None:
            await self._store.delete(_key(position_id))


def _key(position_id: str) -> str:
    return f"execution.plan.{position_id}"
