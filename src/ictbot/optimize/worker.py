"""The work loop every ``ictbot optimize`` process runs, alone or beside others on one storage.

For each fold in turn: run trials until the fold's study holds exactly ``trials`` COMPLETE ones,
then score the best feasible parameter set on the fold's out-of-sample window (once; the result is
stored in the study so a report can be rendered from the storage alone).

Exactly ``trials``, never more, with any number of workers: trials are numbered by the storage,
and a trial only runs if fewer than ``trials`` lower-numbered trials are COMPLETE, RUNNING or
WAITING (queued retries); otherwise it ends PRUNED as surplus. A worker that sees the quota taken
by running trials waits for them instead of leaving, so a trial of a worker that dies meanwhile
is failed by the heartbeat check, re-queued and run here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState
from pydantic import ValidationError

from ictbot.domain.errors import IctbotError
from ictbot.optimize.evaluate import Evaluator, equity_points
from ictbot.optimize.folds import Fold
from ictbot.optimize.objectives import INFEASIBLE, score
from ictbot.optimize.space import Choice, Dimension
from ictbot.optimize.storage import worker_id

HOLDING = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
POLL_SECONDS = 1.0
OOS_KEY = "out_of_sample"
RESULT_KEY = "result"  # trial user attribute: the in-sample backtest's metrics and feasibility


@dataclass(frozen=True)
class Search:
    space: tuple[Dimension, ...]
    objective: str
    min_trades: int
    trials: int


def suggest(trial: optuna.Trial, dimension: Dimension) -> Any:
    if isinstance(dimension, Choice):
        return trial.suggest_categorical(dimension.name, list(dimension.values))
    if dimension.integer:
        step = int(dimension.step or 1)
        return trial.suggest_int(dimension.name, int(dimension.low), int(dimension.high), step=step)
    return trial.suggest_float(dimension.name, dimension.low, dimension.high, step=dimension.step)


def _is_surplus(trial: optuna.Trial, quota: int) -> bool:
    earlier = trial.study.get_trials(deepcopy=False, states=HOLDING)
    return sum(1 for t in earlier if t.number < trial.number) >= quota


def make_objective(search: Search, evaluator: Evaluator, fold: Fold) -> Callable[[optuna.Trial], float]:
    def objective(trial: optuna.Trial) -> float:
        if _is_surplus(trial, search.trials):
            trial.set_user_attr("surplus", True)
            raise optuna.TrialPruned("the study already has its trials")
        params = {d.name: suggest(trial, d) for d in search.space}
        trial.set_user_attr("worker", worker_id())
        try:
            outcome = evaluator.run(params, fold.in_sample)
        except (IctbotError, ValidationError, ValueError) as exc:  # the strategy refuses these parameters
            trial.set_user_attr(RESULT_KEY, {"feasible": False, "reason": f"{type(exc).__name__}: {exc}"[:500]})
            return INFEASIBLE
        summary = outcome.summary().to_json()
        result = score(summary, search.objective, search.min_trades)
        # One attribute, one write: on a remote database every write is a round trip.
        trial.set_user_attr(RESULT_KEY, {"feasible": result.feasible, "metric": result.metric,
                                         "reason": result.reason, "trades": result.trades, "summary": summary,
                                         "fingerprint": outcome.fingerprint})
        return result.value

    return objective


def _counts(study: optuna.Study) -> dict[TrialState, int]:
    counts = dict.fromkeys(TrialState, 0)
    for t in study.get_trials(deepcopy=False):
        counts[t.state] += 1
    return counts


def complete_count(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def fill_study(study: optuna.Study, objective: Callable[[optuna.Trial], float], quota: int, *,
               on_progress: Callable[[int], None] | None = None, poll_seconds: float = POLL_SECONDS) -> None:
    """Run trials of ``study`` here until it holds ``quota`` COMPLETE trials (see the module doc)."""
    while True:
        optuna.storages.fail_stale_trials(study)  # a dead worker's trial: FAILED and re-queued
        counts = _counts(study)
        if on_progress is not None:
            on_progress(counts[TrialState.COMPLETE])
        if counts[TrialState.COMPLETE] >= quota:
            return
        holding = sum(counts[s] for s in HOLDING)
        if holding >= quota and counts[TrialState.WAITING] == 0:
            time.sleep(poll_seconds)  # others run the last trials; stay to retry them if their worker dies
            continue
        study.optimize(objective, n_trials=1, gc_after_trial=False)


def result_of(trial: FrozenTrial) -> dict[str, Any]:
    found: dict[str, Any] = trial.user_attrs.get(RESULT_KEY) or {}
    return found


def feasible(trial: FrozenTrial) -> bool:
    return bool(result_of(trial).get("feasible"))


def best_feasible(trials: Sequence[FrozenTrial]) -> FrozenTrial | None:
    """The highest-scoring COMPLETE trial that met the constraints (ties: the lowest number)."""
    ok = [t for t in trials if t.state == TrialState.COMPLETE and feasible(t) and t.value is not None]
    return max(ok, key=lambda t: (t.value, -t.number)) if ok else None


def settle_fold(study: optuna.Study, search: Search, evaluator: Evaluator, fold: Fold) -> Mapping[str, Any]:
    """The fold's chosen parameters scored on its out-of-sample window (stored in the study;
    deterministic, so workers that get here together store the same document)."""
    stored: Mapping[str, Any] | None = study.user_attrs.get(OOS_KEY)
    if stored is not None:
        return stored
    best = best_feasible(study.get_trials(deepcopy=False))
    if best is None:
        document: dict[str, Any] = {"trial": None, "params": None,
                                    "reason": f"no trial met --min-trades {search.min_trades}"}
    else:
        outcome = evaluator.run(best.params, fold.out_of_sample)
        summary = outcome.summary().to_json()
        result = score(summary, search.objective, search.min_trades)
        document = {"trial": best.number, "params": dict(best.params), "in_sample_value": best.value,
                    "value": result.metric, "feasible": result.feasible, "reason": result.reason,
                    "summary": summary, "fingerprint": outcome.fingerprint, "curve": equity_points(outcome)}
    study.set_user_attr(OOS_KEY, document)
    return document
