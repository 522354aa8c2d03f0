from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ictbot.adapters.storage import Database
from tests.integration.storage.databases import open_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(request.param, tmp_path) as database:
        yield database
