"""``resolve_strategy``: built-in names and user files, and every way a spec can be wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ictbot.backtest.reference import REFERENCE_STRATEGIES
from ictbot.domain.errors import ConfigError
from ictbot.strategies.base import declared_warmup
from ictbot.strategies.builtin import StrategyA
from ictbot.strategies.loader import StrategyLoadError, resolve_strategy

GOOD = '''
from typing import ClassVar
from ictbot.strategies.base import BaseStrategy, StrategyConfig

class BreakoutConfig(StrategyConfig):
    lookback: int = 20

class Breakout(BaseStrategy[BreakoutConfig]):
    kind: ClassVar[str] = "breakout"
    config_model: ClassVar[type[StrategyConfig]] = BreakoutConfig

    @property
    def warmup_candles(self) -> int:
        return self.config.lookback

    def on_candle(self, context):
        return None
'''


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def reason(spec: str) -> str:
    with pytest.raises(StrategyLoadError) as caught:
        resolve_strategy(spec)
    assert caught.value.spec == spec
    return caught.value.reason


def test_builtin_names_and_extra_kinds() -> None:
    assert resolve_strategy("strategy_a").cls is StrategyA
    assert not resolve_strategy("strategy_a").is_user
    assert resolve_strategy("s2_fvg", extra=REFERENCE_STRATEGIES).kind == "s2_fvg"
    assert "unknown strategy 'nope'" in reason("nope")
    assert "unknown strategy 's2_fvg'" in reason("s2_fvg")  # a reference kind only where a caller adds it


def test_a_class_in_a_file_builds_with_validated_params(tmp_path: Path) -> None:
    path = write(tmp_path, "breakout.py", GOOD)
    found = resolve_strategy(f"{path}:Breakout")
    assert (found.kind, found.source, found.is_user) == ("breakout", str(path), True)
    strategy = found.build({"lookback": 55})
    assert strategy.id == "breakout" and declared_warmup(strategy) == 55
    assert resolve_strategy(str(path)).cls is found.cls  # the only strategy class; the file imported once
    with pytest.raises(ConfigError, match=r"strategies\.breakout\.params\.lookback"):
        found.build({"lookback": "many"})
    with pytest.raises(ConfigError, match=r"strategies\.breakout\.params\.lookbak"):
        found.build({"lookbak": 3})


def test_missing_file_and_missing_class_are_named(tmp_path: Path) -> None:
    assert f"file {tmp_path / 'absent.py'} does not exist" in reason(f"{tmp_path / 'absent.py'}:X")
    path = write(tmp_path, "breakout.py", GOOD)
    assert "no class 'Brekout'" in reason(f"{path}:Brekout") and "Breakout" in reason(f"{path}:Brekout")
    assert "is a int, not a class" in reason(f"{write(tmp_path, 'const.py', 'X = 1')}:X")


def test_a_class_missing_protocol_members_names_them(tmp_path: Path) -> None:
    path = write(tmp_path, "half.py", '''
        from ictbot.strategies.base import BaseStrategy

        class Abstract(BaseStrategy):
            kind = "abstract"

        class Plain:
            def on_candle(self, context):
                return None
    ''')
    assert "Abstract does not implement the strategy protocol; missing: on_candle" in reason(f"{path}:Abstract")
    plain = reason(f"{path}:Plain")
    for member in ("from_params", "required_timeframes", "warmup_candles", "id (", "config ("):
        assert member in plain
    assert "on_candle" not in plain.split("missing:")[1]
    assert "strategy classes found: Abstract, Plain" in reason(str(path))


def test_import_errors_name_the_file_and_line(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.py", "import math\n\ndef f(:\n    pass\n")
    assert f"import failed at {broken.resolve()}:3: SyntaxError" in reason(f"{broken}:X")
    failing = write(tmp_path, "failing.py", "import math\n\n\nVALUE = 1 / 0\n")
    text = reason(f"{failing}:X")
    assert f"{failing.resolve()}:4: ZeroDivisionError: division by zero" in text
    missing = write(tmp_path, "needs.py", "import not_a_module_anywhere\n")
    assert f"{missing.resolve()}:1: ModuleNotFoundError" in reason(str(missing))


def test_a_dotted_module_path_works_and_a_missing_one_is_named() -> None:
    found = resolve_strategy("ictbot.strategies.builtin.strategy_a:StrategyA")
    assert found.cls is StrategyA and found.source == "ictbot.strategies.builtin.strategy_a"
    assert "no file or module 'no_such_pkg.mod'" in reason("no_such_pkg.mod:Thing")


def test_an_edited_file_is_imported_again(tmp_path: Path) -> None:
    path = write(tmp_path, "breakout.py", GOOD)
    first = resolve_strategy(f"{path}:Breakout").cls
    write(tmp_path, "breakout.py", GOOD.replace("lookback: int = 20", "lookback: int = 30") + "\n# edited\n")
    second = resolve_strategy(f"{path}:Breakout").cls
    assert second is not first and second.config_model().lookback == 30
