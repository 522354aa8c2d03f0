"""Package names imported on first use (PEP 562): a caller of one submodule of a package such as
``ictbot.candles`` or ``ictbot.indicators`` does not pay for the package's other submodules.

A lazy name must not equal the name of one of the package's submodules: importing that submodule
anywhere binds the package attribute to the module, so the lazy lookup would never run and the
name would silently be the module (``from ictbot.candles import aggregate`` once returned the
module). ``lazy_names`` refuses such a table when the package is imported.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``name`` is imported from the submodule
    ``homes[name]`` when first read and then kept in the package's namespace."""
    module = sys.modules[package]
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    clashes = sorted(set(homes) & submodules)
    if clashes:
        raise ImportError(f"{package}: lazy names {clashes} equal submodule names; import them eagerly")

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(module, name, value)
        return value

    return __getattr__
