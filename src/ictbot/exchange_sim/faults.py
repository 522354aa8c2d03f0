"""Fault injection: what the next requests, responses, streams and orders should suffer.

Every fault is explicit and counted (``next N``), so tests are deterministic. The plan is read
by the server's request pipeline and stream publishers; tests set it through ``SimControl``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ictbot.exchange_sim.errors import SimError

RESPONSE_MODES = ("hang", "error_503", "timeout_1007")


@dataclass(slots=True)
class ResponseFault:
    """The next ``count`` matching requests lose their reply.

    ``after_commit``: the request is executed first (the order exists), then the reply is lost;
    otherwise nothing is executed. ``hang`` holds the reply for ``hang_seconds`` (the client
    times out), ``error_503`` answers 503 (execution status unknown), ``timeout_1007`` answers
    408 -1007. (A TCP reset cannot be produced through ASGI; ``hang`` covers "no reply".)
    """

    method: str | None
    path: str | None
    mode: str = "hang"
    after_commit: bool = True
    count: int = 1
    hang_seconds: float = 30.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or self.path == path)


@dataclass(slots=True)
class FaultPlan:
    response_faults: list[ResponseFault] = field(default_factory=list)
    order_rejections: list[SimError] = field(default_factory=list)
    forced_rate_limits: int = 0
    delay_ms: int = 0
    delay_count: int = 0
    dropped_events: dict[str, int] = field(default_factory=dict)  # kind → how many to swallow
    duplicated_events: dict[str, int] = field(default_factory=dict)  # kind → how many to send twice
    delayed_events: dict[str, int] = field(default_factory=dict)  # kind → how many to send after the next
    market_stalled: bool = False
    held_reports: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (account, report)

    def take_response_fault(self, method: str, path: str) -> ResponseFault | None:
        for fault in self.response_faults:
            if fault.count > 0 and fault.matches(method, path):
                fault.count -= 1
                if fault.count == 0:
                    self.response_faults.remove(fault)
                return fault
        return None

    def take_order_rejection(self) -> SimError | None:
        return self.order_rejections.pop(0) if self.order_rejections else None

    def take_forced_rate_limit(self) -> bool:
        if self.forced_rate_limits > 0:
            self.forced_rate_limits -= 1
            return True
        return False

    def take_delay(self) -> float:
        if self.delay_count > 0:
            self.delay_count -= 1
            return self.delay_ms / 1000
        return 0.0

    @staticmethod
    def take(counts: dict[str, int], kind: str) -> bool:
        """True (and count down) when ``counts`` holds another event of ``kind`` to treat."""
        if counts.get(kind, 0) > 0:
            counts[kind] -= 1
            return True
        return False

    def execution_reports(self, account: str, report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """What to send now for one execution report: nothing (held, sent right after the account's
        next one), the report twice, or the report and then the ones held for it."""
        if self.take(self.delayed_events, "executionReport"):
            self.held_reports.append((account, report))
            return []
        now = [(account, report)] * (2 if self.take(self.duplicated_events, "executionReport") else 1)
        released = [held for held in self.held_reports if held[0] == account]
        self.held_reports = [held for held in self.held_reports if held[0] != account]
        return now + released

    def swallow(self, kind: str) -> bool:
        """True (and count down) when the next event of ``kind`` must be lost."""
        left = self.dropped_events.get(kind, 0)
        if left > 0:
            self.dropped_events[kind] = left - 1
            return True
        return False
