"""The per-rule kernel helpers rely on numba's internal ``_nrt=False`` flag (``kernels/_rules.py``): with
reference counting the split kernels ran 2–10× slower than the single loops they replaced. If a numba
upgrade drops or ignores the flag, the kernels still compute the same events, only slowly — so this test
is what fails loudly instead."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from ictbot.indicators.kernels._rules import rule


def _first_above(values, limit):  # type: ignore[no-untyped-def]
    for k in range(values.shape[0]):
        if values[k] > limit:
            return k
    return -1


def test_a_rule_helper_taking_an_array_is_compiled_without_reference_counting() -> None:
    helper = rule(_first_above)
    assert helper(np.array([1.0, 3.0, 5.0]), 2.0) == 1  # compiles it
    assert helper.targetoptions.get("_nrt") is False
    ir = "\n".join(helper.inspect_llvm().values())
    assert "NRT_incref" not in ir and "NRT_decref" not in ir


def test_the_same_helper_compiled_with_reference_counting_does_count_references() -> None:
    """The check above can fail: numba's ordinary compile of the same function counts references."""
    from numba import njit

    counted = njit(_first_above)
    assert counted(np.array([1.0, 3.0, 5.0]), 2.0) == 1
    ir = "\n".join(counted.inspect_llvm().values())
    assert "NRT_incref" in ir or "NRT_decref" in ir
