"""The results document of an optimisation, read back from the storage alone (so ``--report`` can
render a study that other machines filled): per fold the trials, the chosen parameters with their
in-sample and out-of-sample metrics, parameter importance; across folds the stability of each
parameter and the out-of-sample equity stitched fold after fold."""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from ictbot.optimize.space import space_from_json
from ictbot.optimize.stability import parameter_stability, stitch_equity
from ictbot.optimize.storage import META_KEY, fold_study_name, load_existing
from ictbot.optimize.worker import OOS_KEY, result_of

SCHEMA = "ictbot.optimize/1"


def fold_studies(storage: BaseStorage, study: str) -> list[optuna.Study]:
    """The studies ``<study>.fold1 .. foldK`` in fold order; ValueError when there are none."""
    pattern = re.compile(re.escape(study) + r"\.fold(\d+)$")
    numbers = sorted(int(m.group(1)) for s in storage.get_all_studies() if (m := pattern.match(s.study_name)))
    found = [s for n in numbers if (s := load_existing(storage, fold_study_name(study, n))) is not None]
    if not found:
        raise ValueError(f"--study: no study named {study!r} in this storage")
    return found


def _trial_row(trial: FrozenTrial) -> dict[str, Any]:
    value = trial.value if trial.value is not None and math.isfinite(trial.value) else None
    result = result_of(trial)
    return {"number": trial.number, "state": trial.state.name, "value": value, "params": dict(trial.params),
            "trades": result.get("trades"), "feasible": result.get("feasible"), "reason": result.get("reason"),
            "worker": trial.user_attrs.get("worker"),
            "retry_of": trial.system_attrs.get("failed_trial")}


def importance(study: optuna.Study) -> dict[str, float]:
    """Optuna's parameter importance (PED-ANOVA) over the fold's trials; {} when it cannot tell
    (too few trials, or a single value tried)."""
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.value is not None and math.isfinite(t.value)]
    if len(done) < 4:
        return {}
    floor = min(t.value for t in done if t.value is not None)

    def target(trial: FrozenTrial) -> float:
        # PED-ANOVA ranks parameters by how they reach LOW targets; the objective is maximised.
        value = trial.value
        return -(value if value is not None and math.isfinite(value) else floor)

    try:
        with warnings.catch_warnings():  # its "low target" reminder: handled by the negation above
            warnings.simplefilter("ignore", UserWarning)
            found = optuna.importance.get_param_importances(study, target=target)
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}
    return {name: round(float(v), 6) for name, v in found.items()}


def fold_document(study: optuna.Study) -> dict[str, Any]:
    meta = study.user_attrs[META_KEY]
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state.name for t in trials)
    oos = study.user_attrs.get(OOS_KEY)
    chosen_number = None if oos is None else oos.get("trial")
    chosen = next((t for t in trials if t.number == chosen_number), None)
    return {
        "number": meta["fold"]["number"], "study": study.study_name,
        "in_sample": meta["fold"]["in_sample"], "out_of_sample": meta["fold"]["out_of_sample"],
        "states": dict(states), "complete": states.get("COMPLETE", 0), "settled": oos is not None,
        "workers": dict(Counter(t.user_attrs.get("worker") for t in trials if t.state == TrialState.COMPLETE)),
        "chosen": None if chosen is None else {
            "trial": chosen.number, "params": dict(chosen.params), "in_sample_value": chosen.value,
            "in_sample": result_of(chosen).get("summary"),
        },
        "out_of_sample_result": oos,
        "importance": importance(study),
        "trials": [_trial_row(t) for t in trials],
    }


def results_document(storage: BaseStorage, study: str) -> dict[str, Any]:
    studies = fold_studies(storage, study)
    meta = studies[0].user_attrs[META_KEY]
    folds = [fold_document(s) for s in studies]
    space = space_from_json(meta["space"])
    chosen = [f["chosen"]["params"] for f in folds if f["chosen"] is not None]
    curves = [(r["curve"]["times"], r["curve"]["equity"], r["curve"]["initial_cash"])
              for f in folds if (r := f["out_of_sample_result"]) and r.get("curve")]
    initial = curves[0][2] if curves else 0.0
    times, equity = stitch_equity(curves, initial)
    last = folds[-1]["chosen"]
    names = sorted({n for f in folds for n in f["importance"]})
    mean_importance = {n: round(sum(f["importance"].get(n, 0.0) for f in folds) / len(folds), 6) for n in names}
    return {
        "schema": SCHEMA, "study": study, "strategy": meta["strategy"], "objective": meta["objective"],
        "min_trades": meta["min_trades"], "trials_per_fold": meta["trials"], "walk": meta["walk"],
        "oos_fraction": meta["oos_fraction"], "space": meta["space"], "data": meta["data"], "base": meta["base"],
        "complete": all(f["settled"] for f in folds) and len(folds) == meta["folds"],
        "folds": folds, "stability": parameter_stability(space, chosen), "importance": mean_importance,
        "out_of_sample": {
            "times": times, "equity": equity, "initial_cash": initial,
            "total_return_pct": (equity[-1] / initial - 1) * 100 if equity and initial else None,
        },
        # The most recent fold's choice: fitted on the newest in-sample data, its out-of-sample known.
        "best_params": None if last is None else {**meta.get("base_params", {}), **last["params"]},
    }
