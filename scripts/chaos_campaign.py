#!/usr/bin/env python3
"""Run a seeded fault campaign against the simulator and print the tally (docs/reliability.md).

    PYTHONPATH=src python scripts/chaos_campaign.py --sessions 20 --seed 1000
    python scripts/chaos_campaign.py --sessions 5 --seed 7 --faults bot_kill,ws_drop --journal runs.jsonl

Each session starts ``ictbot sim`` and ``ictbot run --mode testnet`` as processes, injects seeded
faults, then checks the invariants against the simulator's ground truth. Exit code 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "src")]

from tests.chaos.campaign import Tally, run_campaign  # noqa: E402
from tests.chaos.faults import FAULTS  # noqa: E402
from tests.chaos.session import SessionResult, from_description  # noqa: E402


def parse_faults(raw: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in raw.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULTS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"--faults: unknown kind(s) {unknown}; known: {', '.join(FAULTS)}")
    return kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10, help="number of sessions (seeds SEED, SEED+1, ...)")
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    parser.add_argument("--faults", type=parse_faults, default=tuple(FAULTS),
                        help=f"comma-separated fault kinds (default all: {','.join(FAULTS)})")
    parser.add_argument("--faults-per-session", type=int, default=3)
    parser.add_argument("--duration", type=float, default=20.0, help="trading seconds per session (before settling)")
    parser.add_argument("--workdir", type=Path, default=None, help="session folders (logs, databases); default temp")
    parser.add_argument("--journal", type=Path, default=None, help="append one JSON line per session here")
    parser.add_argument("--summarize", type=Path, nargs="+", default=None, metavar="JOURNAL",
                        help="run nothing: print the tally of these journals (e.g. of a campaign stopped midway)")
    args = parser.parse_args()
    if args.summarize:
        lines = [json.loads(line) for path in args.summarize for line in path.read_text().splitlines() if line]
        tally = Tally([from_description(line) for line in lines])
        print(tally.render())
        return 0 if not tally.failed else 1
    if args.sessions < 1:
        parser.error("--sessions must be at least 1")

    def progress(result: SessionResult) -> None:
        verdict = "ok" if result.passed else f"FAILED {result.error or [k for k, v in result.checks.items() if v]}"
        print(f"seed {result.seed} {result.database} {dict(result.injected)} "
              f"{result.figures.get('seconds', 0):.0f}s {verdict}", flush=True)

    with tempfile.TemporaryDirectory(prefix="ictbot-chaos-") as temporary:
        root = args.workdir or Path(temporary)
        tally = run_campaign(args.sessions, args.seed, root, faults=args.faults,
                             fault_count=args.faults_per_session, duration_s=args.duration,
                             journal=args.journal, progress=progress)
    print(tally.render())
    return 0 if not tally.failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
