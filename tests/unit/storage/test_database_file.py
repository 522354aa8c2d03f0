"""A damaged database file stops the start; what the bot creates is owner-only."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ictbot.adapters.storage import Database, sqlite_url
from ictbot.adapters.storage.database import database_file_problem
from ictbot.app.settings import Settings
from ictbot.cli.main import app
from ictbot.cli.run import check_database_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _real_database(path: Path, rows: int = 2000) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x TEXT)")
        connection.executemany("INSERT INTO t VALUES (?)", [("x" * 100,)] * rows)
    connection.close()


def test_healthy_or_absent_files_are_fine(tmp_path: Path) -> None:
    assert database_file_problem(tmp_path / "absent.db") is None
    _real_database(tmp_path / "ok.db")
    assert database_file_problem(tmp_path / "ok.db") is None


def test_empty_foreign_and_truncated_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    assert "is empty (0 bytes)" in (database_file_problem(empty) or "")
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    assert "is not an SQLite database" in (database_file_problem(foreign) or "")
    cut = tmp_path / "cut.db"
    _real_database(cut)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    assert "is truncated" in (database_file_problem(cut) or "")


def test_run_refuses_an_empty_database_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.db").touch()
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.db"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["run", "--mode", "paper"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "is empty (0 bytes)" in lines[0] and "--reset-db" in lines[0]


def test_reset_db_sets_the_damaged_file_aside(tmp_path: Path) -> None:
    broken = tmp_path / "bot.db"
    broken.write_bytes(b"garbage" * 20)
    (tmp_path / "bot.db-wal").write_bytes(b"w")
    check_database_file(Settings(DATABASE_PATH=broken), reset=True)  # type: ignore[call-arg]
    assert not broken.exists()
    moved = sorted(p.name for p in tmp_path.iterdir())
    assert len(moved) == 2 and moved[0].startswith("bot.db.broken-") and moved[1].endswith("-wal")


def test_a_healthy_database_is_never_reset(tmp_path: Path) -> None:
    _real_database(tmp_path / "bot.db")
    check_database_file(Settings(DATABASE_PATH=tmp_path / "bot.db"), reset=True)  # type: ignore[call-arg]
    assert (tmp_path / "bot.db").exists()


async def test_a_new_database_and_its_directory_are_owner_only(tmp_path: Path) -> None:
    file = tmp_path / "new" / "data" / "bot.db"
    database = Database(sqlite_url(file))
    database.upgrade()
    await database.close()
    assert _mode(file) == 0o600
    assert _mode(file.parent) == 0o700 and _mode(file.parent.parent) == 0o700
    assert database_file_problem(file) is None


async def test_an_old_world_readable_database_is_tightened(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    file = tmp_path / "bot.db"
    _real_database(file)
    file.chmod(0o644)
    database = Database(sqlite_url(file))
    await database.close()
    assert _mode(file) == 0o600 and _mode(tmp_path) == 0o755  # an existing directory keeps its mode
