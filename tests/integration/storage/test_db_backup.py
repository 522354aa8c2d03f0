"""`ictbot db backup`: a consistent, self-contained copy of the SQLite database while it is written."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ictbot.adapters.storage import Database, head_revision
from ictbot.adapters.storage.backup import BackupError, backup_database
from ictbot.cli.main import app

runner = CliRunner()


@pytest.fixture
def live_db(tmp_path: Path) -> Path:
    file = tmp_path / "live" / "bot.db"
    database = Database(f"sqlite:///{file}")
    database.upgrade("head")
    database.close_sync()
    return file


def _insert_rows(file: Path, start: int, count: int) -> None:
    connection = sqlite3.connect(file, timeout=30)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        for index in range(start, start + count):
            with connection:
                connection.execute("INSERT INTO key_values (key, value, updated_at) VALUES (?, 'v', 0)",
                                   (f"k{index:04d}",))
    finally:
        connection.close()


def _kv_keys(file: Path) -> list[str]:
    connection = sqlite3.connect(file)
    try:
        return [row[0] for row in connection.execute("SELECT key FROM key_values ORDER BY key")]
    finally:
        connection.close()


def test_the_cli_backs_up_committed_rows_still_in_the_wal(live_db: Path, tmp_path: Path) -> None:
    holder = sqlite3.connect(live_db)  # an open reader keeps the WAL from being checkpointed away
    holder.execute("PRAGMA journal_mode=WAL")
    _insert_rows(live_db, 0, 20)
    assert Path(f"{live_db}-wal").stat().st_size > 0  # the rows are (also) in the WAL
    target = tmp_path / "backups" / "bot-1.db"
    result = runner.invoke(app, ["db", "backup", str(target), "--database-url", f"sqlite:///{live_db}"])
    holder.close()
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output
    assert len(_kv_keys(target)) == 20
    assert not Path(f"{target}-wal").exists()  # self-contained: journal mode DELETE
    assert target.stat().st_mode & 0o777 == 0o600 and target.parent.stat().st_mode & 0o777 == 0o700
    restored = Database(f"sqlite:///{target}")
    try:
        assert restored.current_revision() == head_revision()
    finally:
        restored.close_sync()


def test_a_backup_taken_during_writes_is_a_committed_prefix(live_db: Path, tmp_path: Path) -> None:
    writer = threading.Thread(target=_insert_rows, args=(live_db, 0, 400))
    writer.start()
    try:
        result = backup_database(f"sqlite:///{live_db}", tmp_path / "during.db")
    finally:
        writer.join()
    keys = _kv_keys(result.target)
    assert len(keys) <= 400 and len(keys) == len(set(keys))  # whole rows, never a torn page
    assert keys == [f"k{i:04d}" for i in range(len(keys))]  # every row committed before the copy, in order


def test_refusals_are_one_line(live_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "b.db"
    target.write_text("an older backup")
    result = runner.invoke(app, ["db", "backup", str(target), "--database-url", f"sqlite:///{live_db}"])
    assert result.exit_code == 2 and "exists; choose a new name or pass --force" in result.output
    assert target.read_text() == "an older backup"
    assert runner.invoke(app, ["db", "backup", str(target), "--force", "--database-url",
                               f"sqlite:///{live_db}"]).exit_code == 0
    with pytest.raises(BackupError, match="pg_dump"):
        backup_database("postgresql+psycopg://u@127.0.0.1:5432/test", tmp_path / "pg.db")
    with pytest.raises(BackupError, match="does not exist"):
        backup_database(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "m.db")
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(BackupError, match="empty"):
        backup_database(f"sqlite:///{empty}", tmp_path / "e.db")
