from __future__ import annotations

import itertools

import numpy as np
import pytest

from ictbot.optimize.folds import Walk, Window, walk_forward

BAR = 300_000


def _times(count: int) -> np.ndarray:
    return np.arange(count, dtype=np.int64) * BAR + 1_700_000_000_000


def test_anchored_folds_grow_the_fit_window_and_score_the_next_block() -> None:
    times = _times(1000)
    folds = walk_forward(times, BAR, folds=4, walk=Walk.ANCHORED, oos_fraction=0.4)
    assert [f.number for f in folds] == [1, 2, 3, 4]
    for fold in folds:
        assert fold.in_sample.start_ms == int(times[0])
        assert fold.in_sample.end_ms == fold.out_of_sample.start_ms  # fit ends where the score starts
        assert fold.out_of_sample.end_ms - fold.out_of_sample.start_ms == 100 * BAR
    assert [f.out_of_sample.start_ms for f in folds] == [int(times[i]) for i in (600, 700, 800, 900)]
    assert folds[-1].out_of_sample.end_ms == int(times[-1]) + BAR  # the last candle is scored too


def test_rolling_folds_keep_the_fit_length() -> None:
    times = _times(1000)
    folds = walk_forward(times, BAR, folds=4, walk=Walk.ROLLING, oos_fraction=0.4)
    for fold in folds:
        assert fold.in_sample.end_ms - fold.in_sample.start_ms == 600 * BAR
        assert fold.in_sample.end_ms == fold.out_of_sample.start_ms
    assert folds[1].in_sample.start_ms == int(times[100])


def test_out_of_sample_blocks_do_not_overlap() -> None:
    folds = walk_forward(_times(997), BAR, folds=3, walk=Walk.ANCHORED, oos_fraction=0.5)
    for before, after in itertools.pairwise(folds):
        assert before.out_of_sample.end_ms == after.out_of_sample.start_ms


def test_window_round_trip() -> None:
    (fold,) = walk_forward(_times(200), BAR, folds=1, walk=Walk.ANCHORED, oos_fraction=0.5)
    assert type(fold).from_json(fold.to_json()) == fold
    assert fold.in_sample < fold.out_of_sample and isinstance(fold.in_sample, Window)


@pytest.mark.parametrize(("folds", "fraction", "message"), [
    (0, 0.5, "--folds must be at least 1"),
    (2, 0.0, "--oos-fraction must be between 0 and 1"),
    (2, 1.0, "--oos-fraction must be between 0 and 1"),
    (10, 0.5, "each needs at least 50"),
])
def test_bad_fold_settings_name_the_flag(folds: int, fraction: float, message: str) -> None:
    with pytest.raises(ValueError, match="--") as caught:
        walk_forward(_times(500), BAR, folds=folds, walk=Walk.ANCHORED, oos_fraction=fraction)
    assert message in str(caught.value)
