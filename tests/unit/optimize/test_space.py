from __future__ import annotations

import pytest

from ictbot.optimize.space import Choice, NumericRange, parse_space, space_from_json, space_to_json


def test_integer_float_and_choice_dimensions() -> None:
    space = parse_space(["fast=5:30", "slow=40:120:10", "min_reward_risk=1.5:4", "mode=a,b,c", "risk.max=0.1:0.5:0.1"])
    assert space[0] == NumericRange("fast", 5, 30, None, True)
    assert space[1] == NumericRange("slow", 40, 120, 10, True)
    assert space[2] == NumericRange("min_reward_risk", 1.5, 4, None, False)
    assert space[3] == Choice("mode", ("a", "b", "c"))
    assert space[4].integer is False and space[4].step == 0.1


def test_choice_values_are_typed() -> None:
    (choice,) = parse_space(["max_targets=1,2,3"])
    assert isinstance(choice, Choice) and choice.values == (1, 2, 3)


def test_round_trip_through_json() -> None:
    space = parse_space(["fast=5:30", "x=0.5:1.5:0.25", "m=true,false"])
    assert space_from_json(space_to_json(space)) == space


@pytest.mark.parametrize(("items", "message"), [
    ([], "--space: give at least one"),
    (["fast"], "--space 'fast': expected name=low:high"),
    (["fast=30:5"], "low (30) must be below high (5)"),
    (["fast=5:x"], "high must be a number, got 'x'"),
    (["fast=5:30:0"], "step must be positive"),
    (["fast=5:30:50"], "step 50 is wider than the range"),
    (["fast=5:6:7:8"], "expected name=low:high"),
    (["mode=a"], "a choice needs at least two values"),
    (["mode=a,a"], "a value is listed twice"),
    (["fast=5:30", "fast=1:2"], "--space fast given twice"),
])
def test_bad_space_names_the_flag_and_the_reason(items: list[str], message: str) -> None:
    with pytest.raises(ValueError, match="--space") as caught:
        parse_space(items)
    assert message in str(caught.value)
