"""Cross-check against smartmoneyconcepts 0.0.27 reference outputs on EURUSD 15m (§12.6).

Where the definitions coincide (FVG geometry and body filter; MitigatedIndex = our ``fvg_touched``
with the caps off) the results must be equal after shifting the library's rows by one candle (it
writes each FVG on the middle candle). Documented differences are asserted as differences.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from ictbot.adapters.files import read_candle_file
from ictbot.domain.candle_frame import CandleFrame
from ictbot.indicators.params import FvgParams, IndicatorParams
from ictbot.indicators.suite import SuiteResult, compute
from tests.conftest import DATA, require_shared

REF = DATA / "fixtures" / "smc_reference_eurusd_15m"


@pytest.fixture(scope="module")
def eurusd() -> CandleFrame:
    return read_candle_file(require_shared(REF / "EURUSD_15M.csv"))


@pytest.fixture(scope="module")
def uncapped(eurusd: CandleFrame) -> SuiteResult:
    return _run(eurusd, IndicatorParams(fvg=FvgParams(max_active=None)))


@pytest.fixture(scope="module")
def default(eurusd: CandleFrame) -> SuiteResult:
    return compute(eurusd.open_time, eurusd.open, eurusd.high, eurusd.low, eurusd.close, "15m", series=True)


def _rows(name: str) -> list[dict[str, str]]:
    with Path(REF / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _run(frame: CandleFrame, params: IndicatorParams) -> SuiteResult:
    return compute(frame.open_time, frame.open, frame.high, frame.low, frame.close, "15m", params)


@pytest.mark.slow
def test_fvg_equals_library_rows_shifted_by_one_candle(uncapped: SuiteResult) -> None:
    result = uncapped
    ours = {e.anchor_index: e for e in result.events if e.kind == "fvg"}
    touched = {e.fields["parent_id"]: e.confirm_index for e in result.events if e.kind == "fvg_touched"}
    reference = [(row_index, row) for row_index, row in enumerate(_rows("fvg_result_data.csv")) if row["FVG"]]
    assert len(reference) == len(ours) > 1000
    for row_index, row in reference:
        event = ours[row_index]
        assert event.confirm_index == row_index + 1
        assert (event.direction, event.top, event.bottom) == (
            int(float(row["FVG"])),
            float(row["Top"]),
            float(row["Bottom"]),
        )
        assert touched.get(event.id, 0) == int(float(row["MitigatedIndex"]))


@pytest.mark.slow
def test_default_cap_evicts_and_then_stops_reporting_touches(default: SuiteResult) -> None:
    capped = default
    evicted = {e.fields["parent_id"]: e.confirm_index for e in capped.events if e.kind == "fvg_evicted"}
    assert evicted
    late = [
        e
        for e in capped.events
        if e.kind == "fvg_touched"
        and e.fields["parent_id"] in evicted
        and e.confirm_index > evicted[e.fields["parent_id"]]
    ]
    assert late == []
    reference = {
        row_index: int(float(row["MitigatedIndex"]))
        for row_index, row in enumerate(_rows("fvg_result_data.csv"))
        if row["FVG"]
    }
    gaps = {e.id: e.anchor_index for e in capped.events if e.kind == "fvg"}
    # documented difference: the library still reports mitigations of gaps we evicted earlier
    assert any(reference[gaps[gap_id]] > at for gap_id, at in evicted.items())


@pytest.mark.slow
def test_previous_day_high_agrees_except_where_documented(default: SuiteResult) -> None:
    """Equal inside each day; documented differences (§7): on a day's first candle the library gives the
    day before yesterday (we give yesterday), and after a missing day (weekend) it reaches back, we give NaN."""
    result = default
    pdh = result.series["pdh"]
    first_of_day = {e.confirm_index for e in result.events if e.kind == "previous_day"}
    agree = differ_first = same_first = ours_undefined = 0
    for index, row in enumerate(_rows("previous_high_low_result_data_1D.csv")):
        if not row["PreviousHigh"]:
            continue
        if math.isnan(pdh[index]):
            ours_undefined += 1
            continue
        equal = float(row["PreviousHigh"]) == pdh[index]
        if index in first_of_day:
            differ_first += not equal
            same_first += equal
        else:
            assert equal, index
            agree += 1
    assert agree > 15_000 and differ_first > 10 * max(same_first, 1) and ours_undefined > 1000
