"""`ictbot sim`: help text and argument checks."""

from __future__ import annotations

from typer.testing import CliRunner

from ictbot.cli.main import app


def test_help_lists_the_flags() -> None:
    result = CliRunner().invoke(app, ["sim", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in ("--data", "--speed", "--host", "--port", "--seed", "--keys", "--balance", "--state",
                 "--strict-time"):
        assert flag in result.output


def test_refuses_non_loopback_and_bad_speed() -> None:
    assert CliRunner().invoke(app, ["sim", "--host", "0.0.0.0"]).exit_code == 2
    assert CliRunner().invoke(app, ["sim", "--speed", "-1"]).exit_code == 2
