"""`ictbot optimize` end to end: results JSON, HTML report, and a best-parameter config that the
configuration checks of `ictbot run` accept; bad flags are named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ictbot.cli.main import app
from tests.integration.optimize.support import END, START, data_file

runner = CliRunner()


def _base(*extra: str, trials: int = 5, folds: int = 2) -> list[str]:
    return ["optimize", "--data", data_file(), "--start", START, "--end", END, "--strategy", "s1_ema_cross",
            "--space", "fast=3:30", "--space", "slow=20:90:5", "--trials", str(trials), "--folds", str(folds),
            "--seed", "5", "--min-trades", "2", *extra]


def test_optimize_writes_results_report_and_a_config_run_accepts(tmp_path: Path) -> None:
    config = tmp_path / "base.json"
    config.write_text(json.dumps({"strategies": {"strategy_a": {"params": {"min_reward_risk": 2.0}},
                                                 "strategy_b": {"enabled": False}}}))
    out_json, out_html, best = tmp_path / "r.json", tmp_path / "r.html", tmp_path / "best.json"
    result = runner.invoke(app, ["optimize", "--data", data_file(), "--start", START, "--end", END,
                                 "--strategy", "strategy_a", "--space", "min_reward_risk=1.5:3.5:0.5",
                                 "--space", "max_targets=1,2", "--trials", "3", "--folds", "1", "--seed", "1",
                                 "--min-trades", "0", "--objective", "net_return", "--config", str(config),
                                 "--json", str(out_json), "--report", str(out_html), "--best-config", str(best)])
    assert result.exit_code == 0, result.output
    document = json.loads(out_json.read_text())
    assert document["schema"] == "ictbot.optimize/1" and document["complete"]
    assert [f["complete"] for f in document["folds"]] == [3]
    written = json.loads(best.read_text())
    chosen = document["best_params"]
    assert written["strategies"]["strategy_a"]["params"] == chosen
    assert written["strategies"]["strategy_b"] == {"enabled": False}  # the rest of the base config is kept
    check = runner.invoke(app, ["config", "validate", str(best)])
    assert check.exit_code == 0, check.output
    page = out_html.read_text()
    assert "<svg" in page and "In-sample vs out-of-sample per fold" in page
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"http", page)  # self-contained


@pytest.mark.parametrize(("flags", "message"), [
    (["--space", "fast=30:5"], "--space 'fast=30:5': low (30) must be below high (5)"),
    (["--objective", "winrate"], "--objective must be one of"),
    (["--walk", "sideways"], "--walk must be anchored or rolling"),
    (["--folds", "40"], "--folds 40"),
    (["--storage", "sqlite:///x.db"], "--storage needs --study"),
    (["--space", "fats=1:5"], "--space fats: s1_ema_cross has no parameter 'fats' (its parameters: "),
])
def test_bad_flags_are_named(flags: list[str], message: str) -> None:
    args = _base(*flags)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_report_needs_data_or_a_stored_study(tmp_path: Path) -> None:
    result = runner.invoke(app, ["optimize", "--report", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "--data is required" in result.output
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(app, ["optimize", "--storage", url, "--study", "nope", "--report", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "no study named 'nope'" in result.output


@pytest.mark.slow  # two spawned worker processes: ~15 s on a quiet machine, ~50 s at load 15+
def test_local_workers_share_a_sqlite_study_and_a_report_renders_from_the_storage(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    args = _base("--workers", "2", "--storage", url, "--study", "local", "--json", str(tmp_path / "r.json"),
                 trials=6, folds=1)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "r.json").read_text())
    assert [f["complete"] for f in document["folds"]] == [6]
    assert set(document["folds"][0]["states"]) <= {"COMPLETE", "PRUNED"}  # PRUNED: surplus, never run
    workers = {w for f in document["folds"] for w in f["workers"]}
    assert workers and all(":" in w for w in workers)
    # Rendered again from the storage alone (no --data): the same folds and choices.
    page = tmp_path / "again.html"
    again = runner.invoke(app, ["optimize", "--storage", url, "--study", "local", "--report", str(page),
                                "--json", str(tmp_path / "again.json")])
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "again.json").read_text())["folds"] == document["folds"]
    assert "Walk-forward optimisation: s1_ema_cross" in page.read_text()


def test_a_study_refuses_a_worker_with_another_search(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = _base("--storage", url, "--study", "s", trials=2, folds=1)
    assert runner.invoke(app, first).exit_code == 0
    other = [a if a != "fast=3:30" else "fast=3:40" for a in first]
    result = runner.invoke(app, other)
    assert result.exit_code == 2
    assert "--study: s.fold1 was created with a different space" in " ".join(result.output.split())
