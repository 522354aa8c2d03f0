"""Where a study lives: in memory (one process), or in a database that any number of processes on
any number of machines share through Optuna's RDB storage (PostgreSQL, SQLite).

Database storage runs Optuna's heartbeats: each running trial's process writes a heartbeat every
``heartbeat_interval`` seconds; a trial whose heartbeat is older than ``grace_period`` belongs to a
dead worker, is marked FAILED by whichever worker notices first, and is queued again with the same
parameters (``RetryHeartbeatStaleTrialCallback``), so a killed worker loses no trial.
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage, RetryHeartbeatStaleTrialCallback

from ictbot.adapters.storage.url import redact

META_KEY = "ictbot"  # study user attribute holding what the study was created for
# What a worker joining an existing study must agree on (it would otherwise mix incomparable trials).
SCHEMA_ATTEMPTS = 4
SHARED_KEYS = ("strategy", "space", "objective", "min_trades", "trials", "fold", "data", "base")


@dataclass(frozen=True)
class StorageOptions:
    url: str | None = None  # None: in memory, this process only
    heartbeat_interval: int = 10
    grace_period: int = 30
    max_retry: int = 3


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def open_storage(options: StorageOptions) -> BaseStorage:
    quiet_optuna()
    if options.url is None:
        return InMemoryStorage()
    if options.heartbeat_interval < 1:
        raise ValueError(f"--heartbeat-interval must be at least 1 second, got {options.heartbeat_interval}")
    if options.grace_period <= options.heartbeat_interval:
        raise ValueError(f"--grace-period ({options.grace_period}) must exceed --heartbeat-interval "
                         f"({options.heartbeat_interval}): a live worker would be declared dead")
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            return RDBStorage(
                options.url, heartbeat_interval=options.heartbeat_interval, grace_period=options.grace_period,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=options.max_retry),
                engine_kwargs=_engine_kwargs(options.url),
            )
        except sqlalchemy.exc.IntegrityError:
            # Workers starting together on an empty database race to create Optuna's tables; the
            # loser finds them made on its next attempt.
            if attempt == SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(0.5 + attempt)
        except Exception as exc:  # sqlalchemy: bad URL, unreachable server, missing driver
            raise ValueError(f"--storage {redact(options.url)}: {type(exc).__name__}: {exc}") from exc
    raise AssertionError("unreachable")


def _engine_kwargs(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Several local workers write one SQLite file: wait for the lock instead of failing at once.
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


def fold_study_name(study: str, fold: int) -> str:
    return f"{study}.fold{fold}"


def load_or_create(storage: BaseStorage, name: str, meta: Mapping[str, Any],
                   sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    """The study ``name``: created with ``meta`` if new; an existing one must have been created for
    the same search (strategy, space, objective, trials, fold window, data), else ValueError."""
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler, direction="maximize",
                                load_if_exists=True)
    found = study.user_attrs.get(META_KEY)
    if found is None:
        study.set_user_attr(META_KEY, dict(meta))
        return study
    for key in SHARED_KEYS:
        if _canonical(found.get(key)) != _canonical(meta.get(key)):
            raise ValueError(f"--study: {name} was created with a different {key} ({_short(found.get(key))}; "
                             f"this run: {_short(meta.get(key))}); use a new --study name")
    return study


def load_existing(storage: BaseStorage, name: str) -> optuna.Study | None:
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _short(value: Any) -> str:
    text = _canonical(value)
    return text if len(text) <= 120 else text[:117] + "..."
