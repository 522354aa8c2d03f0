"""README.md and docs/*.md link only to files that exist inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_relative_links_resolve_inside_the_repository(document: Path) -> None:
    for target in LINK.findall(document.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not ours to check offline
        resolved = (document.parent / target).resolve()
        assert resolved.is_relative_to(REPO_ROOT), f"{document.name} links outside the repository: {target}"
        assert resolved.exists(), f"{document.name} links to a missing file: {target}"


def test_the_readme_links_the_architecture_map() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert "](docs/architecture.md)" in readme and "ARCHITECTURE.md" not in readme
    assert "](docs/deployment.md)" in readme
