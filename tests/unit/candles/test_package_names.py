"""``ictbot.candles`` imports most names lazily; a name equal to a submodule's must still be the function."""

from __future__ import annotations

import subprocess
import sys


def test_aggregate_is_the_function_even_after_its_submodule_was_imported_first() -> None:
    code = ("import ictbot.candles.aggregate, ictbot.candles.quality\n"
            "from ictbot.candles import aggregate, CandleWindows\n"
            "assert callable(aggregate) and not isinstance(aggregate, type(sys)), aggregate\n"
            "assert CandleWindows.__name__ == 'CandleWindows'\n")
    done = subprocess.run([sys.executable, "-c", "import sys\n" + code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
