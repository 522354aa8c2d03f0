"""Optimisation throughput: trials/minute with 1 and with 2 worker processes sharing one study.

    .venv/bin/python bench/optimize.py [--storage URL] [--trials N] [--strategy KIND] [--months N]

Each round starts W ``ictbot optimize --storage URL --study NAME`` processes at once — exactly the
multi-machine recipe of docs/optimize.md, here on one machine — and waits for them. Reported per W:

* trials/min (trial phase): COMPLETE trials / (last trial completed − first trial started), from the
  trials' own timestamps in the storage: the search itself, without process start and data loading;
* trials/min (wall): COMPLETE trials / the processes' wall time, start-up included;
* trials in flight: the summed trial durations over the trial phase — how many trials were running
  at once on average (1 worker: just under 1, the rest is the loop between trials; 2 workers
  near 2 unless the shared study serialises them);
* the mean trial duration, the workers' CPU seconds (start-up included) per trial — on a machine
  shared with other jobs the rates follow the CPU the processes get, the CPU per trial shows
  whether sharing a study costs work;
* which worker ran how many trials, and the 2-worker / 1-worker ratio of both rates.

The studies are deleted afterwards. Default storage: the PostgreSQL test database on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ICTBOT_SHARED_DIR", ROOT.parent / "shared")) / "data" / "binance_spot_raw_5m"
SPACES = {
    "strategy_a": ["min_reward_risk=1.5:4:0.25", "max_targets=1,2,3", "stop_buffer_atr=0:0.5:0.05"],
    "strategy_b": ["min_reward_risk=1.5:4:0.25", "max_targets=1,2,3"],
    "s1_ema_cross": ["fast=3:40", "slow=20:200:5"],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_round(workers: int, args: argparse.Namespace, files: list[str]) -> dict[str, float | dict[str, int]]:
    study = f"bench-optimize-{uuid.uuid4().hex[:10]}"
    command = [sys.executable, "-m", "ictbot", "optimize", "--data", *files, "--strategy", args.strategy,
               *[f"--space={s}" for s in SPACES[args.strategy]], "--objective", "net_return",
               "--trials", str(args.trials), "--folds", "1", "--min-trades", "0", "--storage", args.storage,
               "--study", study]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cpu_before = _children_cpu()
    started = time.perf_counter()
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(workers)]
    for process in processes:
        _out, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"worker failed: {err.decode()[-1500:]}")
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    storage = optuna.storages.RDBStorage(args.storage)
    name = f"{study}.fold1"
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(
        states=(optuna.trial.TrialState.COMPLETE,))
    first = min(t.datetime_start for t in trials if t.datetime_start)
    last = max(t.datetime_complete for t in trials if t.datetime_complete)
    phase = (last - first).total_seconds()
    optuna.delete_study(study_name=name, storage=storage)
    return {"complete": len(trials), "phase_s": phase, "wall_s": wall,
            "per_min_phase": len(trials) / phase * 60, "per_min_wall": len(trials) / wall * 60,
            "in_flight": sum((t.datetime_complete - t.datetime_start).total_seconds()
                             for t in trials if t.datetime_complete and t.datetime_start) / phase,
            "cpu_s": cpu, "cpu_per_trial_s": cpu / len(trials),
            "mean_trial_s": sum((t.datetime_complete - t.datetime_start).total_seconds()
                                for t in trials if t.datetime_complete and t.datetime_start) / len(trials),
            "by_worker": dict(Counter(str(t.user_attrs.get("worker")) for t in trials))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--strategy", default="strategy_a", choices=sorted(SPACES))
    parser.add_argument("--months", type=int, default=1, help="BTCUSDT 5m months from 2024-01 (fit on half)")
    args = parser.parse_args()
    files = [str(p) for p in sorted(DATA.glob("BTCUSDT-5m-2024-*.csv"))[: args.months]]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"load average before: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()}); {args.strategy}, "
          f"{args.trials} trials, {len(files)} month(s) of BTCUSDT 5m, storage {args.storage.split('@')[-1]}")
    results = {}
    for workers in (1, 2):
        results[workers] = run_round(workers, args, files)
        r = results[workers]
        print(f"{workers} worker(s): {r['complete']} trials, trial phase {r['phase_s']:.1f} s → "
              f"{r['per_min_phase']:.1f} trials/min; wall {r['wall_s']:.1f} s → {r['per_min_wall']:.1f} trials/min; "
              f"mean trial {r['mean_trial_s']:.2f} s, {r['in_flight']:.2f} trials in flight; "
              f"worker CPU {r['cpu_s']:.1f} s "
              f"({r['cpu_per_trial_s']:.2f} s/trial, start-up included); by worker {r['by_worker']}; "
              f"load now {os.getloadavg()[0]:.1f}")
    one, two = results[1], results[2]
    print(f"ratio 2 workers / 1 worker: trial phase {float(two['per_min_phase']) / float(one['per_min_phase']):.2f}×, "
          f"wall {float(two['per_min_wall']) / float(one['per_min_wall']):.2f}×, "
          f"trials in flight {float(two['in_flight']) / float(one['in_flight']):.2f}×")


if __name__ == "__main__":
    main()
