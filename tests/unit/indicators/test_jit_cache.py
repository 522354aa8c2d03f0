"""The kernels' numba decorator (``kernels._jit.jit``) caches on disk where it can and still works where
it cannot (a read-only install).

Each case compiles a one-line function with the real decorator in a fresh interpreter, from a module in
its own directory. "Unwritable" is made without permissions (the suite may run as root, who can write
anywhere): a regular file named ``__pycache__`` beside the module and a cache home below a regular file
leave numba no place to create its cache directory, which is what a read-only site-packages and a
read-only home give it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")

SRC = Path(__file__).resolve().parents[3] / "src"
MODULE = """
from ictbot.indicators.kernels._jit import jit


@jit
def twice(x):
    return 2 * x
"""
PROBE = "import tiny_kernel as m; print(m.twice(21), m.twice.stats.cache_hits.most_common(1))"


def run_probe(module_dir: Path, cache_home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=f"{module_dir}{os.pathsep}{SRC}", HOME=str(cache_home), XDG_CACHE_HOME=str(cache_home))
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def read_only_module(tmp_path: Path) -> Path:
    module_dir = tmp_path / "site"
    module_dir.mkdir()
    (module_dir / "tiny_kernel.py").write_text(MODULE)
    (module_dir / "__pycache__").write_text("not a directory: numba cannot cache beside the module")
    return module_dir


@pytest.mark.timeout(600)
def test_read_only_install_caches_in_the_user_cache_directory(tmp_path: Path) -> None:
    module_dir = read_only_module(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    first = run_probe(module_dir, home)
    second = run_probe(module_dir, home)
    assert first.startswith("42 ") and "[]" in first  # compiled, nothing loaded
    assert second.startswith("42 ") and "[]" not in second  # loaded from the cache the first run wrote
    assert list(home.rglob("*.nbi")), "the cache index lives in the user's cache directory"


@pytest.mark.timeout(600)
def test_nowhere_to_cache_still_compiles_and_runs(tmp_path: Path) -> None:
    module_dir = read_only_module(tmp_path)
    blocker = tmp_path / "no-home"
    blocker.write_text("a file: nothing can be created below it")
    assert run_probe(module_dir, blocker / "cache").startswith("42 ")


CALLEE = """
from ictbot.indicators.kernels._jit import jit


@jit
def step(x):
    return x + {increment}
"""
ENTRY = """
from ictbot.indicators.kernels._jit import jit
from tiny_kernels.callee import step


@jit
def entry(x):
    return 2 * step(x)
"""
ENTRY_PROBE = "from tiny_kernels.entry import entry; print(entry(20), entry.stats.cache_hits.most_common(1))"


def run_entry_probe(site: Path, numba_cache_dir: Path | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=f"{site}{os.pathsep}{SRC}")
    if numba_cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache_dir)
    done = subprocess.run([sys.executable, "-c", ENTRY_PROBE], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("location", ["beside the sources", "NUMBA_CACHE_DIR"])
def test_an_edited_callee_in_another_module_is_not_served_from_the_callers_cache(tmp_path: Path,
                                                                                 location: str) -> None:
    # the shape of pipeline.suite_kernel: a cached entry point whose machine code holds a kernel of
    # another file; numba itself checks only the entry point's own file, which the edit leaves as it was
    site = tmp_path / "site"
    package = site / "tiny_kernels"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "entry.py").write_text(ENTRY)
    (package / "callee.py").write_text(CALLEE.format(increment=1))
    cache_dir = tmp_path / "numba-cache" if location == "NUMBA_CACHE_DIR" else None
    first = run_entry_probe(site, cache_dir)
    second = run_entry_probe(site, cache_dir)
    (package / "callee.py").write_text(CALLEE.format(increment=2))  # same size: only the content differs
    edited = run_entry_probe(site, cache_dir)
    again = run_entry_probe(site, cache_dir)
    assert first.startswith("42 ") and "[]" in first  # compiled
    assert second.startswith("42 ") and "[]" not in second  # served from the cache: the cache works
    assert edited.startswith("44 ") and "[]" in edited  # the edit is compiled, not the stale 42 served
    assert again.startswith("44 ") and "[]" not in again  # and cached in turn
