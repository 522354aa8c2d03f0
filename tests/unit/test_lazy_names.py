"""``ictbot.lazy_names``: package names imported on first use, and the clash it refuses."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from ictbot.lazy_names import lazy_names


def _package(tmp_path: Path, name: str, submodules: dict[str, str]) -> types.ModuleType:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, source in submodules.items():
        (folder / f"{module}.py").write_text(source)
    package = types.ModuleType(name)
    package.__path__ = [str(folder)]
    sys.modules[name] = package
    return package


def test_a_lazy_name_is_imported_from_its_home_when_first_read_and_kept(tmp_path: Path) -> None:
    package = _package(tmp_path, "lazy_pkg_ok", {"home": "VALUE = 42\n"})
    try:
        getter = lazy_names("lazy_pkg_ok", {"VALUE": "home"})
        assert "lazy_pkg_ok.home" not in sys.modules
        assert getter("VALUE") == 42 and package.VALUE == 42
        with pytest.raises(AttributeError, match="no attribute 'OTHER'"):
            getter("OTHER")
    finally:
        sys.modules.pop("lazy_pkg_ok", None)
        sys.modules.pop("lazy_pkg_ok.home", None)


def test_a_lazy_name_equal_to_a_submodule_is_refused(tmp_path: Path) -> None:
    _package(tmp_path, "lazy_pkg_clash", {"aggregate": "def aggregate(): ...\n"})
    try:
        with pytest.raises(ImportError, match=r"lazy names \['aggregate'\] equal submodule names"):
            lazy_names("lazy_pkg_clash", {"aggregate": "aggregate"})
    finally:
        sys.modules.pop("lazy_pkg_clash", None)
