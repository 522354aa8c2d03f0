"""Run N seeded sessions and tally them: per invariant passes/failures, per fault kind injections."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos.faults import FAULTS
from tests.chaos.invariants import INVARIANTS
from tests.chaos.session import SessionConfig, SessionResult, describe, run_session

CHECK_NAMES = (*INVARIANTS, "bot never crashed")


@dataclass
class Tally:
    sessions: list[SessionResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for s in self.sessions if s.passed)

    @property
    def failed(self) -> list[SessionResult]:
        return [s for s in self.sessions if not s.passed]

    def invariant_rows(self) -> list[tuple[str, int, int]]:
        rows = []
        for name in CHECK_NAMES:
            checked = [s for s in self.sessions if name in s.checks]
            failures = sum(1 for s in checked if s.checks[name] is not None)
            rows.append((name, len(checked) - failures, failures))
        return rows

    def injected(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for session in self.sessions:
            total.update(session.injected)
        return total

    def render(self) -> str:
        lines = [f"{'invariant':<24} {'passed':>7} {'failed':>7}"]
        lines += [f"{name:<24} {ok:>7} {bad:>7}" for name, ok, bad in self.invariant_rows()]
        lines += ["", f"{'fault':<24} {'injected':>8}"]
        injected = self.injected()
        lines += [f"{kind:<24} {injected.get(kind, 0):>8}" for kind in FAULTS]
        databases = Counter(s.database for s in self.sessions)
        seconds = [s.figures.get("seconds", 0.0) for s in self.sessions]
        entries = sum(s.figures.get("entries_accepted", 0) for s in self.sessions)
        worst = max((s.figures.get("max_unprotected_s", 0.0) for s in self.sessions), default=0.0)
        worst_down = max((s.figures.get("max_unprotected_incl_down_s", 0.0) for s in self.sessions), default=0.0)
        starts = sum(s.figures.get("bot_starts", 0) for s in self.sessions)
        refusals = sum(s.figures.get("bot_start_refusals", 0) for s in self.sessions)
        lines += ["", f"databases: {dict(databases)}  entries accepted: {entries:.0f}  bot starts: {starts:.0f} "
                      f"(refused while the exchange was down: {refusals:.0f})",
                  f"longest unprotected while the bot was up: {worst:.1f} s, including its downtime: "
                  f"{worst_down:.1f} s  session seconds: {min(seconds, default=0):.0f}-{max(seconds, default=0):.0f}"]
        for session in self.failed:
            reasons = {k: v for k, v in session.checks.items() if v}
            lines.append(f"FAILED seed {session.seed} ({session.database}): {session.error or reasons}")
        lines.append(f"{self.passed} passed, {len(self.failed)} failed")
        return "\n".join(lines)


def run_campaign(sessions: int, seed: int, root: Path, *, faults: tuple[str, ...] = tuple(FAULTS),
                 fault_count: int = 3, duration_s: float = 20.0, journal: Path | None = None,
                 progress: Callable[[SessionResult], None] | None = None) -> Tally:
    """Sessions use seeds ``seed``, ``seed + 1``, ...; each result is appended to ``journal`` (JSON lines)."""
    tally = Tally()
    for offset in range(sessions):
        config = SessionConfig(seed=seed + offset, root=root, faults=faults, fault_count=fault_count,
                               duration_s=duration_s)
        result = run_session(config)
        tally.sessions.append(result)
        if journal is not None:
            with journal.open("a") as out:
                out.write(json.dumps(describe(result), default=str) + "\n")
        if progress is not None:
            progress(result)
    return tally
