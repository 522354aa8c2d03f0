from __future__ import annotations

import pytest

from ictbot.optimize.space import parse_space
from ictbot.optimize.stability import parameter_stability, stitch_equity


def test_same_choice_in_every_fold_is_fully_stable() -> None:
    space = parse_space(["fast=5:30", "mode=a,b"])
    found = parameter_stability(space, [{"fast": 10, "mode": "a"}] * 3)
    assert found["fast"] == {"per_fold": [10, 10, 10], "stability": 1.0}
    assert found["mode"]["stability"] == 1.0


def test_choices_at_both_ends_of_the_range_are_unstable() -> None:
    space = parse_space(["fast=0:10", "mode=a,b,c"])
    found = parameter_stability(space, [{"fast": 0, "mode": "a"}, {"fast": 10, "mode": "b"}])
    assert found["fast"]["stability"] == pytest.approx(0.0)
    assert found["mode"]["stability"] == pytest.approx(0.5)
    assert parameter_stability(space, [{"fast": 5, "mode": "a"}])["fast"]["stability"] is None


def test_stitching_chains_fold_returns() -> None:
    times, equity = stitch_equity([([1, 2], [100.0, 110.0], 100.0), ([3, 4], [50.0, 45.0], 50.0)], initial=1000.0)
    assert times == [1, 2, 3, 4]
    assert equity == pytest.approx([1000.0, 1100.0, 1100.0, 990.0])  # +10 % then -10 %
