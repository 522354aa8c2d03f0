"""``ictbot new-strategy``, ``ictbot analyze`` and ``ictbot backtest --strategy FILE:Class`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ictbot.cli.main import app
from tests.conftest import require_shared
from tests.integration.analysis.support import CHEATERS, MONTH

pytestmark = pytest.mark.slow  # about 15 s: several backtests per analysis on real candles
runner = CliRunner()
NO_CONFIG = {"ICTBOT_CONFIG_FILE": "/nonexistent/ictbot-trading-config.json"}
WEEK = ["--start", "2024-01-02", "--end", "2024-01-06"]  # 1,152 candles
TEN_DAYS = ["--start", "2024-01-08", "--end", "2024-01-18"]


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=NO_CONFIG, terminal_width=200)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``ictbot new-strategy fvg_trend``'s file, as a --strategy spec."""
    require_shared(MONTH)
    folder = tmp_path_factory.mktemp("mine")
    code, output = invoke("new-strategy", "fvg_trend", "--out", str(folder))
    assert code == 0, output
    spec = f"{folder / 'fvg_trend.py'}:FvgTrend"
    assert f"--strategy {spec}" in output
    return spec


def test_the_template_backtests(template: str, tmp_path: Path) -> None:
    document = tmp_path / "bt.json"
    code, output = invoke("backtest", "--data", str(MONTH), "--strategy", template, "--json", str(document),
                          *TEN_DAYS)
    assert code == 0, output
    result = json.loads(document.read_text())
    assert result["metadata"]["parameters"]["strategy"] == template
    assert result["summary"]["trades"] >= 1 and result["symbols"]["BTCUSDT"]["signals"] >= 5


def test_the_template_passes_lookahead(template: str) -> None:
    code, output = invoke("analyze", "lookahead", "--data", str(MONTH), "--strategy", template, "--cuts", "3",
                          *TEN_DAYS)
    assert code == 0 and "OK: no difference found" in output, output


def test_the_template_passes_recursive(template: str) -> None:
    code, output = invoke("analyze", "recursive", "--data", str(MONTH), "--strategy", template, "--offset", "1500",
                          "--end", "2024-01-20")
    assert code == 0 and "OK: no difference found" in output and "warm-up 2,400 candles" in output, output
    assert "0 signals compared" not in output


def test_a_peeking_strategy_fails_lookahead_with_its_differences(tmp_path: Path) -> None:
    require_shared(MONTH)
    findings = tmp_path / "lookahead.json"
    code, output = invoke("analyze", "lookahead", "--data", str(MONTH), "--strategy", f"{CHEATERS}:Peeking",
                          *WEEK, "--cuts", "4", "--seed", "3", "--json", str(findings))
    assert code == 1, output
    assert "FOUND" in output and "only in the reference run" in output
    document = json.loads(findings.read_text())
    assert document["schema"] == "ictbot.analyze.lookahead/1" and document["ok"] is False
    assert document["seed"] == 3 and len(document["cuts"]) == 4
    first = document["differences"][0]
    assert {"kind", "symbol", "time", "at", "variant", "only_in", "fields"} <= first.keys()


def test_an_overreaching_strategy_fails_recursive(tmp_path: Path) -> None:
    require_shared(MONTH)
    findings = tmp_path / "recursive.json"
    code, output = invoke("analyze", "recursive", "--data", str(MONTH), "--strategy", f"{CHEATERS}:Overreaching",
                          *WEEK, "--offset", "300", "--json", str(findings))
    assert code == 1 and "warm-up 10 candles" in output, output
    document = json.loads(findings.read_text())
    assert document["warmup_candles"] == 10 and document["differences"]
    code, output = invoke("analyze", "recursive", "--data", str(MONTH), "--strategy", f"{CHEATERS}:Overreaching",
                          *WEEK, "--offset", "300", "--warmup", "200")
    assert code == 0, output  # with the history it really needs


def test_bad_specs_and_names_are_one_line_errors(tmp_path: Path) -> None:
    require_shared(MONTH)
    code, output = invoke("backtest", "--data", str(MONTH), "--strategy", f"{tmp_path}/nope.py:Nope")
    assert code == 2 and "nope.py does not exist" in output and "Traceback" not in output
    code, output = invoke("analyze", "lookahead", "--data", str(MONTH), "--strategy", f"{CHEATERS}:Missing")
    assert code == 2 and "no class 'Missing'" in output
    code, output = invoke("analyze", "recursive", "--data", str(MONTH), "--strategy", "strategy_b", *WEEK)
    assert code == 2 and "give more data" in output  # a week is shorter than its 3,000-candle warm-up
    assert invoke("new-strategy", "Bad-Name", "--out", str(tmp_path))[0] == 2
    assert invoke("new-strategy", "ok_name", "--out", str(tmp_path))[0] == 0
    code, output = invoke("new-strategy", "ok_name", "--out", str(tmp_path))
    assert code == 2 and "exists" in output
