"""Tests of ketex.scales: every scoring rule of domain.md section 3, table-driven.

Expected values are worked out by hand in the tables below (the arithmetic is written next to
each case), never computed with the code under test.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketex.scales import (
    INSTRUMENTS,
    Instrument,
    check_total,
    get_instrument,
    parse_item,
    score,
    severity,
)

NA = None  # a missing item in the tables below

# Hand-written copies of domain.md section 3, independent of ketex.scales.
HAMD17_MAX = [4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4, 2, 2, 2, 4, 2, 2]
ITEM_MAX = {
    "MADRS": [6] * 10,
    "HAM-D17": HAMD17_MAX,
    "QIDS-SR16": [3] * 16,
    "PHQ-9": [3] * 9,
    "BDI-II": [3] * 21,
}
TOTAL_MAX = {"MADRS": 60, "HAM-D17": 52, "QIDS-SR16": 27, "PHQ-9": 27, "BDI-II": 63}
QIDS_DOMAINS = [[1, 2, 3, 4], [5], [6, 7, 8, 9], [10], [11], [12], [13], [14], [15, 16]]
BANDS = {
    "MADRS": [(0, 6, "none"), (7, 19, "mild"), (20, 34, "moderate"), (35, 60, "severe")],
    "HAM-D17": [(0, 7, "none"), (8, 16, "mild"), (17, 23, "moderate"), (24, 52, "severe")],
    "QIDS-SR16": [(0, 5, "none"), (6, 10, "mild"), (11, 15, "moderate"), (16, 20, "severe"),
                  (21, 27, "very severe")],
    "PHQ-9": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"),
              (15, 19, "moderately severe"), (20, 27, "severe")],
    "BDI-II": [(0, 13, "minimal"), (14, 19, "mild"), (20, 28, "moderate"), (29, 63, "severe")],
}


def frame(*rows: list, index: list | None = None) -> pd.DataFrame:
    """Item rows as a DataFrame with columns item_1..item_K (object dtype keeps '1a' as is)."""
    width = max(len(row) for row in rows)
    columns = [f"item_{i}" for i in range(1, width + 1)]
    padded = [list(row) + [None] * (width - len(row)) for row in rows]
    return pd.DataFrame(padded, columns=columns, index=index, dtype=object)


def score_one(items: list, instrument: str, **options) -> pd.Series:
    return score(frame(items), instrument, **options).iloc[0]


def same(actual, expected) -> bool:
    """Equality that treats NaN as NaN and pd.NA as pd.NA."""
    if expected is pd.NA:
        return actual is pd.NA
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return actual == expected


# --- instrument definitions -------------------------------------------------------------------


@pytest.mark.parametrize("code", list(ITEM_MAX))
def test_definitions_match_domain_reference(code):
    inst = INSTRUMENTS[code]
    assert inst.code == code
    assert inst.n_items == len(ITEM_MAX[code])
    assert list(inst.item_max) == ITEM_MAX[code]
    assert inst.total_max == TOTAL_MAX[code]
    assert [tuple(band) for band in inst.bands] == BANDS[code]
    assert inst.item_columns == tuple(f"item_{i}" for i in range(1, inst.n_items + 1))


def test_qids_domains_and_bdi_lettered_items():
    assert [list(d) for d in INSTRUMENTS["QIDS-SR16"].domains] == QIDS_DOMAINS
    assert INSTRUMENTS["BDI-II"].lettered_items == (16, 18)
    assert INSTRUMENTS["MADRS"].domains == tuple((i,) for i in range(1, 11))
    assert list(INSTRUMENTS)[:5] == ["MADRS", "HAM-D17", "QIDS-SR16", "PHQ-9", "BDI-II"]


def test_hamd17_item_ranges_by_name():
    # depressed mood, guilt, suicide, work, retardation, agitation, psychic and somatic
    # anxiety, hypochondriasis are 0-4; the rest 0-2 (Hamilton 1960).
    four = [1, 2, 3, 7, 8, 9, 10, 11, 15]
    item_max = INSTRUMENTS["HAM-D17"].item_max
    assert [i for i in range(1, 18) if item_max[i - 1] == 4] == four
    assert [i for i in range(1, 18) if item_max[i - 1] == 2] == [4, 5, 6, 12, 13, 14, 16, 17]


def test_instruments_mapping_is_read_only():
    with pytest.raises(TypeError):
        INSTRUMENTS["X"] = INSTRUMENTS["MADRS"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"item_max": (3, 3)}, "2 item maxima for 3 items"),
        ({"domains": ((1,), (2,))}, "each item number"),
        ({"total_max": 8, "bands": ((0, 8, "all"),)}, "not the sum of the domain maxima"),
        ({"bands": ((0, 3, "low"), (5, 9, "high"))}, "without gaps"),
        ({"bands": ((0, 3, "low"), (4, 8, "high"))}, "without gaps"),
        ({"lettered_items": (4,)}, "lettered_items"),
    ],
)
def test_inconsistent_instrument_is_rejected(changes, message):
    parts = dict(code="TOY", name="toy", n_items=3, item_max=(3, 3, 3), total_max=9,
                 bands=((0, 4, "low"), (5, 9, "high")), domains=((1,), (2,), (3,)))
    parts.update(changes)
    with pytest.raises(ValueError, match=message):
        Instrument(**parts)


# --- aliases ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "code"),
    [
        ("MADRS", "MADRS"), ("madrs", "MADRS"),
        ("HAM-D17", "HAM-D17"), ("HAMD17", "HAM-D17"), ("HAM-D", "HAM-D17"), ("HAMD", "HAM-D17"),
        ("HDRS17", "HAM-D17"), ("HRSD17", "HAM-D17"), ("ham-d 17", "HAM-D17"),
        ("QIDS-SR16", "QIDS-SR16"), ("QIDS", "QIDS-SR16"), ("QIDS-SR", "QIDS-SR16"),
        ("QIDSSR16", "QIDS-SR16"), ("qids_sr16", "QIDS-SR16"),
        ("PHQ-9", "PHQ-9"), ("PHQ9", "PHQ-9"), ("phq 9", "PHQ-9"),
        ("BDI-II", "BDI-II"), ("BDI2", "BDI-II"), ("BDI-2", "BDI-II"), ("BDIII", "BDI-II"),
        ("bdi-ii", "BDI-II"),
    ],
)
def test_aliases(alias, code):
    assert get_instrument(alias).code == code


@pytest.mark.parametrize("unknown", ["HAMD21", "BDI", "PHQ", "IDS-C30", ""])
def test_unknown_instrument_lists_known_codes(unknown):
    with pytest.raises(ValueError, match="known instruments: MADRS, HAM-D17, QIDS-SR16, PHQ-9, "
                                         "BDI-II"):
        get_instrument(unknown)


def test_instrument_code_must_be_text():
    with pytest.raises(TypeError, match="must be a string"):
        get_instrument(9)  # type: ignore[arg-type]
    assert get_instrument(INSTRUMENTS["PHQ-9"]) is INSTRUMENTS["PHQ-9"]


# --- parse_item -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "item", "value", "expected"),
    [
        ("MADRS", 1, "3", 3.0),
        ("MADRS", 1, " 6 ", 6.0),
        ("MADRS", 1, "0", 0.0),
        ("MADRS", 1, "2.0", 2.0),
        ("MADRS", 1, 2.0, 2.0),
        ("MADRS", 10, np.int64(5), 5.0),
        ("HAM-D17", 1, 4, 4.0),   # a 0-4 item
        ("HAM-D17", 4, 2, 2.0),   # a 0-2 item at its maximum
        ("HAM-D17", 15, 4, 4.0),
        ("QIDS-SR16", 16, 3, 3.0),
        ("PHQ-9", 9, "1", 1.0),
        ("BDI-II", 16, "0", 0.0),
        ("BDI-II", 16, "1a", 1.0),
        ("BDI-II", 16, "1b", 1.0),
        ("BDI-II", 16, "2a", 2.0),
        ("BDI-II", 16, "2b", 2.0),
        ("BDI-II", 18, "3a", 3.0),
        ("BDI-II", 18, "3B", 3.0),
        ("BDI-II", 18, " 1b ", 1.0),
        ("BDI-II", 18, 2, 2.0),   # already scored by the number
        ("bdi2", 1, "3", 3.0),    # alias as instrument
    ],
)
def test_parse_item_valid(instrument, item, value, expected):
    assert parse_item(value, get_instrument(instrument), item) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, "", "   "])
def test_parse_item_missing_is_nan(missing):
    assert math.isnan(parse_item(missing, INSTRUMENTS["MADRS"], 1))


@pytest.mark.parametrize(
    ("instrument", "item", "value", "message"),
    [
        ("HAM-D17", 4, 3, "HAM-D17 item 4: 3 is outside the valid range (valid: 0..2)"),
        ("HAM-D17", 17, 3, "HAM-D17 item 17: 3 is outside the valid range (valid: 0..2)"),
        ("HAM-D17", 1, 5, "HAM-D17 item 1: 5 is outside the valid range (valid: 0..4)"),
        ("MADRS", 1, 7, "MADRS item 1: 7 is outside the valid range (valid: 0..6)"),
        ("MADRS", 1, -1, "MADRS item 1: -1 is outside the valid range (valid: 0..6)"),
        ("MADRS", 1, "-1", "MADRS item 1: '-1' is outside the valid range (valid: 0..6)"),
        ("MADRS", 1, 2.5, "MADRS item 1: 2.5 is not a whole number (valid: 0..6)"),
        ("MADRS", 1, "2.5", "MADRS item 1: '2.5' is not a whole number (valid: 0..6)"),
        ("MADRS", 1, float("inf"), "MADRS item 1: inf is outside the valid range"),
        ("MADRS", 1, "abc", "MADRS item 1: 'abc' is not a number (valid: 0..6)"),
        ("MADRS", 1, "nan", "'nan' is not a number"),
        ("MADRS", 1, True, "True is not a number"),
        ("MADRS", 1, [1], "[1] is not a number"),
        ("BDI-II", 1, "1a", "BDI-II item 1: '1a' is a lettered option, used only on BDI-II "
                            "items 16 and 18 (valid: 0..3)"),
        ("PHQ-9", 9, "2b", "'2b' is a lettered option"),
        ("BDI-II", 16, "0a", "'0a' is not a number (valid: 0..3 or 1a, 1b, 2a, 2b, 3a, 3b)"),
        ("BDI-II", 16, "4a", "'4a' is not a number"),
        ("BDI-II", 18, "1c", "'1c' is not a number"),
        ("BDI-II", 16, 4, "4 is outside the valid range (valid: 0..3 or 1a, 1b"),
    ],
)
def test_parse_item_invalid(instrument, item, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_item(value, instrument, item)


@pytest.mark.parametrize(("item", "error"), [(0, ValueError), (11, ValueError), (1.0, TypeError)])
def test_parse_item_unknown_item_number(item, error):
    with pytest.raises(error, match="item"):
        parse_item(1, "MADRS", item)


# --- plain sums and the QIDS-SR16 domain rule -------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "items", "total", "label"),
    [
        ("MADRS", [0, 1, 2, 3, 4, 5, 6, 0, 1, 2], 24, "moderate"),   # 0+1+...+6 = 21, +0+1+2
        ("MADRS", [6] * 10, 60, "severe"),
        ("MADRS", [0] * 10, 0, "none"),
        ("HAM-D17", HAMD17_MAX, 52, "severe"),                      # 9 x 4 + 8 x 2
        ("HAM-D17", [2, 1, 0, 1, 1, 0, 2, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], 13, "mild"),
        ("PHQ-9", [0, 1, 2, 3, 0, 1, 2, 3, 0], 12, "moderate"),
        ("PHQ-9", [3] * 9, 27, "severe"),
        ("BDI-II", [1] * 21, 21, "moderate"),
        ("BDI-II", [3] * 21, 63, "severe"),
        ("BDI-II", [0] * 15 + ["2b", 0, "1a", 0, 0, 3], 6, "minimal"),  # 2 + 1 + 3
        ("QIDS-SR16", [3] * 16, 27, "very severe"),                 # 9 domains x 3
        ("QIDS-SR16", [1] * 16, 9, "mild"),                         # 9 domains x 1, not 16
        # sleep max(3,1,0,2)=3, mood 2, weight max(0,1,2,0)=2, 1, 0, 1, 2, 3,
        # psychomotor max(1,2)=2: 3+2+2+1+0+1+2+3+2 = 16 (the plain item sum would be 21)
        ("QIDS-SR16", [3, 1, 0, 2, 2, 0, 1, 2, 0, 1, 0, 1, 2, 3, 1, 2], 16, "severe"),
    ],
)
def test_complete_totals(instrument, items, total, label):
    result = score_one(items, instrument)
    assert result["total"] == total
    assert result["severity"] == label
    assert result["n_answered"] == len(QIDS_DOMAINS if instrument == "QIDS-SR16" else items)
    assert not result["prorated"]
    assert result["missing_reason"] is pd.NA


@pytest.mark.parametrize(
    ("items", "total", "n_answered", "prorated"),
    [
        # three sleep items missing, item 4 answered: the sleep domain is answered (= 1).
        # 1 + 2 + 1 + 1 + 1 + 0 + 2 + 2 + 3 = 13, all 9 domains, not prorated
        ([NA, NA, NA, 1, 2, 1, NA, NA, NA, 1, 1, 0, 2, 2, NA, 3], 13.0, 9, False),
        # all four sleep items missing: 8 domains, 2+1+1+1+0+2+2+3 = 12; 12 x 9 / 8 = 13.5
        ([NA, NA, NA, NA, 2, 1, NA, NA, NA, 1, 1, 0, 2, 2, NA, 3], 13.5, 8, True),
    ],
)
def test_qids_domain_missing_only_when_all_its_items_are(items, total, n_answered, prorated):
    result = score_one(items, "QIDS-SR16")
    assert result["total"] == total
    assert result["n_answered"] == n_answered
    assert result["prorated"] == prorated


# --- PHQ-9 item 9 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "total", "label", "flag"),
    [
        ([0] * 8 + [1], 1.0, "minimal", True),       # a low total still raises the flag
        ([0] * 8 + [3], 3.0, "minimal", True),
        ([3] * 8 + [0], 24.0, "severe", False),
        ([1] * 8 + [NA], 9.0, "mild", pd.NA),         # 8 x 9 / 8; item 9 unanswered
        ([NA] * 8 + [2], math.nan, pd.NA, True),      # flag raised though no total
    ],
)
def test_phq9_item9_flag(items, total, label, flag):
    result = score_one(items, "PHQ-9")
    assert same(result["total"], total)
    assert same(result["severity"], label)
    assert same(result["item9_flag"], flag)


def test_item9_flag_is_na_on_other_scales():
    assert score_one([3] * 10, "MADRS")["item9_flag"] is pd.NA
    assert score_one([3] * 21, "BDI-II")["item9_flag"] is pd.NA


# --- prorating --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "items", "options", "total", "n_answered", "reason"),
    [
        # MADRS, 10 items, default 0.8: 8 answered is exactly the limit. 18 x 10 / 8 = 22.5
        ("MADRS", [3, 3, 3, 3, 2, 2, 1, 1, NA, NA], {}, 22.5, 8, None),
        ("MADRS", [3] * 7 + [NA] * 3, {}, math.nan, 7,
         "7 of 10 items answered; at least 8 needed for prorating"),
        ("MADRS", [NA] * 10, {}, math.nan, 0,
         "0 of 10 items answered; at least 8 needed for prorating"),
        # PHQ-9, 9 items: 8/9 = 0.89 passes, 7/9 = 0.78 does not. 12 x 9 / 8 = 13.5
        ("PHQ-9", [2, 2, 2, 2, 1, 1, 1, 1, NA], {}, 13.5, 8, None),
        ("PHQ-9", [2] * 7 + [NA, NA], {}, math.nan, 7,
         "7 of 9 items answered; at least 8 needed for prorating"),
        # QIDS-SR16 counts domains: 8 of 9 passes (see the domain test), 7 of 9 does not
        ("QIDS-SR16", [NA] * 4 + [2, 1, NA, NA, NA, 1, 1, 0, 2, 2, NA, NA], {}, math.nan, 7,
         "7 of 9 domains answered; at least 8 needed for prorating"),
        # BDI-II, 21 items: 17/21 = 0.81 passes, 16/21 = 0.76 does not. 17 x 21 / 17 = 21
        ("BDI-II", [1] * 17 + [NA] * 4, {}, 21.0, 17, None),
        ("BDI-II", [1] * 16 + [NA] * 5, {}, math.nan, 16,
         "16 of 21 items answered; at least 17 needed for prorating"),
        # min_answered = 0.5, the lowest allowed: 5 of 10 passes (13 x 10 / 5 = 26), 4 not
        ("MADRS", [4, 4, 2, 2, 1] + [NA] * 5, {"min_answered": 0.5}, 26.0, 5, None),
        ("MADRS", [4, 4, 2, 2] + [NA] * 6, {"min_answered": 0.5}, math.nan, 4,
         "4 of 10 items answered; at least 5 needed for prorating"),
        # 0.7 x 10 is 7.000000000000001 in floating point; 7 of 10 must still pass
        ("MADRS", [1] * 7 + [NA] * 3, {"min_answered": 0.7}, 10.0, 7, None),
        ("MADRS", [1] * 9 + [NA], {"min_answered": 1.0}, math.nan, 9,
         "9 of 10 items answered; at least 10 needed for prorating"),
        # prorate=False: any missing item leaves the total missing; complete rows still score
        ("MADRS", [1] * 9 + [NA], {"prorate": False}, math.nan, 9,
         "9 of 10 items answered; all 10 needed because prorating is off"),
        ("MADRS", [1] * 10, {"prorate": False}, 10.0, 10, None),
        ("QIDS-SR16", [NA] * 4 + [1] * 12, {"prorate": False}, math.nan, 8,
         "8 of 9 domains answered; all 9 needed because prorating is off"),
        # round_prorated rounds halves up: 22.5 -> 23 (round-half-even would give 22)
        ("MADRS", [3, 3, 3, 3, 2, 2, 1, 1, NA, NA], {"round_prorated": True}, 23.0, 8, None),
        # 23 x 10 / 8 = 28.75 -> 29
        ("MADRS", [3] * 7 + [2, NA, NA], {"round_prorated": True}, 29.0, 8, None),
        # 12 x 9 / 8 = 13.5 -> 14
        ("PHQ-9", [2, 2, 2, 2, 1, 1, 1, 1, NA], {"round_prorated": True}, 14.0, 8, None),
        # 10 x 3 + 10 x 2 = 50 over 20 of 21 items: 50 x 21 / 20 = 52.5 -> 53
        ("BDI-II", [3] * 10 + [2] * 10 + [NA], {"round_prorated": True}, 53.0, 20, None),
        # HAM-D17 mixed ranges: every 0-4 item at 4 and 0-2 items 4,5,6,12,13,14 at 2 with
        # items 16, 17 missing: 48 x 17 / 15 = 54.4 would pass the 52 maximum; capped at 52
        ("HAM-D17", HAMD17_MAX[:15] + [NA, NA], {}, 52.0, 15, None),
        # 15 of 17 = 0.88: 15 x 17 / 15 = 17 (all ones)
        ("HAM-D17", [1] * 15 + [NA, NA], {}, 17.0, 15, None),
        ("HAM-D17", [1] * 13 + [NA] * 4, {}, math.nan, 13,
         "13 of 17 items answered; at least 14 needed for prorating"),
    ],
)
def test_prorating(instrument, items, options, total, n_answered, reason):
    n_units = 9 if instrument == "QIDS-SR16" else len(items)
    result = score_one(items, instrument, **options)
    assert same(result["total"], total)
    assert result["n_answered"] == n_answered
    assert result["prorated"] == (not math.isnan(total) and n_answered < n_units)
    assert same(result["missing_reason"], pd.NA if reason is None else reason)
    if math.isnan(total):
        assert result["severity"] is pd.NA


@pytest.mark.parametrize("bad", [0.49, 0.0, -1, 1.01, float("nan"), True, "0.8", None])
def test_min_answered_below_half_or_above_one_is_rejected(bad):
    with pytest.raises(ValueError, match="min_answered must be a fraction between 0.5 and 1"):
        score(frame([1] * 10), "MADRS", min_answered=bad)


def test_min_answered_is_checked_even_when_prorating_is_off():
    with pytest.raises(ValueError, match="min_answered"):
        score(frame([1] * 10), "MADRS", min_answered=0.3, prorate=False)


@pytest.mark.parametrize(
    ("instrument", "items", "total", "label"),
    [
        # 16 x 10 / 8 = 20, the moderate edge
        ("MADRS", [3, 3, 3, 3, 2, 2, 0, 0, NA, NA], 20.0, "moderate"),
        # 15 x 10 / 8 = 18.75: mild
        ("MADRS", [3, 3, 3, 3, 2, 1, 0, 0, NA, NA], 18.75, "mild"),
        # 17 x 9 / 8 = 19.125, between 19 and 20: still moderately severe, not severe
        ("PHQ-9", [3, 3, 3, 2, 2, 2, 1, 1, NA], 19.125, "moderately severe"),
    ],
)
def test_prorated_total_between_bands(instrument, items, total, label):
    result = score_one(items, instrument)
    assert result["total"] == total
    assert result["severity"] == label


# --- severity bands ---------------------------------------------------------------------------


BAND_EDGES = [
    (code, value, label)
    for code, bands in {
        "MADRS": [(0, "none"), (6, "none"), (7, "mild"), (19, "mild"), (20, "moderate"),
                  (34, "moderate"), (35, "severe"), (60, "severe")],
        "HAM-D17": [(0, "none"), (7, "none"), (8, "mild"), (16, "mild"), (17, "moderate"),
                    (23, "moderate"), (24, "severe"), (52, "severe")],
        "QIDS-SR16": [(0, "none"), (5, "none"), (6, "mild"), (10, "mild"), (11, "moderate"),
                      (15, "moderate"), (16, "severe"), (20, "severe"), (21, "very severe"),
                      (27, "very severe")],
        "PHQ-9": [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
                  (14, "moderate"), (15, "moderately severe"), (19, "moderately severe"),
                  (20, "severe"), (27, "severe")],
        "BDI-II": [(0, "minimal"), (13, "minimal"), (14, "mild"), (19, "mild"),
                   (20, "moderate"), (28, "moderate"), (29, "severe"), (63, "severe")],
    }.items()
    for value, label in bands
]


@pytest.mark.parametrize(("instrument", "total", "label"), BAND_EDGES)
def test_severity_band_edges(instrument, total, label):
    assert severity(total, instrument) == label
    assert severity(float(total), instrument) == label
    assert severity(pd.Series([total]), instrument).tolist() == [label]


@pytest.mark.parametrize(
    ("instrument", "total", "label"),
    [("MADRS", 6.5, "none"), ("MADRS", 19.5, "mild"), ("MADRS", 19.99, "mild"),
     ("HAM-D17", 23.9, "moderate"), ("PHQ-9", 4.5, "minimal"), ("QIDS-SR16", 20.25, "severe")],
)
def test_severity_between_bands_stays_in_the_lower_band(instrument, total, label):
    assert severity(total, instrument) == label


def test_severity_series_keeps_index_and_missing():
    totals = pd.Series([30.0, None, 7.0], index=["p1", "p2", "p3"])
    result = severity(totals, "madrs")
    assert result.index.tolist() == ["p1", "p2", "p3"]
    assert result.dtype == "string"
    assert result.tolist() == ["moderate", pd.NA, "mild"]
    assert severity(float("nan"), "MADRS") is pd.NA
    assert severity(None, "MADRS") is pd.NA


@pytest.mark.parametrize(("instrument", "total"),
                         [("MADRS", -1), ("MADRS", 61), ("MADRS", 60.5), ("HAM-D17", 53),
                          ("QIDS-SR16", 28), ("PHQ-9", 28), ("BDI-II", 64)])
def test_severity_rejects_totals_outside_range(instrument, total):
    with pytest.raises(ValueError, match="outside the valid range"):
        severity(total, instrument)
    with pytest.raises(ValueError, match=r"1 .* totals are outside the valid range .*'b'"):
        severity(pd.Series([0, total], index=["a", "b"]), instrument)


@pytest.mark.parametrize("totals", [pd.Series(["12"]), pd.Series([True])])
def test_severity_series_must_be_numeric(totals):
    with pytest.raises(ValueError, match="totals must be numbers"):
        severity(totals, "PHQ-9")


# --- check_total ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "total"),
    [("MADRS", 0), ("MADRS", 60), ("MADRS", 60.0), ("MADRS", 27.5), ("HAM-D17", 52),
     ("QIDS-SR16", 27), ("PHQ-9", 27), ("BDI-II", 63), ("BDI-II", np.int64(63)),
     ("MADRS", float("nan")), ("MADRS", None), ("MADRS", pd.NA)],
)
def test_check_total_accepts(instrument, total):
    assert check_total(total, instrument) is None


@pytest.mark.parametrize(
    ("instrument", "total", "message"),
    [
        ("MADRS", -1, "MADRS total -1 is outside the valid range 0..60"),
        ("MADRS", 61, "MADRS total 61 is outside the valid range 0..60"),
        ("MADRS", 60.5, "MADRS total 60.5 is outside the valid range 0..60"),
        ("HAM-D17", 53, "HAM-D17 total 53 is outside the valid range 0..52"),
        ("QIDS-SR16", 28, "QIDS-SR16 total 28 is outside the valid range 0..27"),
        ("PHQ-9", 28, "PHQ-9 total 28 is outside the valid range 0..27"),
        ("BDI-II", 64, "BDI-II total 64 is outside the valid range 0..63"),
        ("MADRS", float("inf"), "outside the valid range"),
        ("MADRS", "30", "MADRS total '30' is not a number"),
        ("MADRS", True, "is not a number"),
    ],
)
def test_check_total_rejects(instrument, total, message):
    with pytest.raises(ValueError, match=message):
        check_total(total, instrument)


# --- invalid values inside score --------------------------------------------------------------


def test_score_names_row_column_value_and_range_of_every_invalid_value():
    items = [[1] * 17, [1, 1, 1, 3] + [1] * 13, [5] + [1] * 16, [1, 1, 1, 3] + [1] * 13]
    data = frame(*items, index=["p1", "p2", "p3", "p4"])
    with pytest.raises(ValueError) as caught:
        score(data, "HAM-D17")
    message = str(caught.value)
    assert message.splitlines() == [
        "invalid item values:",
        "  row 'p2', column 'item_4' (HAM-D17): 3 is outside the valid range (valid: 0..2) "
        "(1 more rows like it)",
        "  row 'p3', column 'item_1' (HAM-D17): 5 is outside the valid range (valid: 0..4)",
    ]


def test_score_rejects_letters_on_items_without_letters():
    data = frame([0] * 15 + ["1a"] + [0] * 5, ["1b"] + [0] * 20)
    with pytest.raises(ValueError, match=r"row 1, column 'item_1' \(BDI-II\): '1b' is a "
                                         "lettered option, used only on BDI-II items 16 and 18"):
        score(data, "BDI-II")


def test_score_reports_invalid_values_of_every_instrument_together():
    data = frame([7] + [0] * 9, [0] * 8 + ["x"])
    data["instrument"] = ["MADRS", "PHQ-9"]
    with pytest.raises(ValueError) as caught:
        score(data)
    lines = str(caught.value).splitlines()
    assert lines[1] == ("  row 0, column 'item_1' (MADRS): 7 is outside the valid range "
                        "(valid: 0..6)")
    assert lines[2] == "  row 1, column 'item_9' (PHQ-9): 'x' is not a number (valid: 0..3)"


def test_score_lists_at_most_twenty_problems():
    invalid = np.arange(30).reshape(3, 10) + 7  # 30 distinct values, all above 6
    data = pd.DataFrame(invalid, columns=[f"item_{i}" for i in range(1, 11)])
    with pytest.raises(ValueError) as caught:
        score(data, "MADRS")
    lines = str(caught.value).splitlines()
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "  ... and 10 more"


@pytest.mark.parametrize(
    ("column", "message"),
    [
        # in an object column True would otherwise pass for 1 (they hash alike)
        (pd.Series([1, True], dtype=object), "row 1, column 'item_3' (MADRS): True is not a "
                                             "number (valid: 0..6)"),
        (pd.Series([np.bool_(False), 0], dtype=object), "row 0, column 'item_3' (MADRS): "
                                                        "np.False_ is not a number"),
        (pd.Series([True, False]), "row 0, column 'item_3' (MADRS): True is not a number"),
    ],
)
def test_true_false_is_not_a_score(column, message):
    data = pd.DataFrame({f"item_{i}": [1, 1] for i in range(1, 11)})
    data["item_3"] = column
    with pytest.raises(ValueError, match=re.escape(message)):
        score(data, "MADRS")


def test_missing_item_column_is_an_error():
    data = frame([1] * 9)
    with pytest.raises(ValueError, match=r"MADRS is scored from columns item_1..item_10; "
                                         "missing: item_10"):
        score(data, "MADRS")


def test_value_in_an_item_column_the_instrument_lacks_is_an_error():
    data = frame([1] * 10 + [2])
    with pytest.raises(ValueError, match=r"column 'item_11' \(MADRS\): 2 does not belong to any "
                                         "item"):
        score(data, "MADRS")
    blank = frame([1] * 10 + [""], [2] * 10 + [NA])
    assert score(blank, "MADRS")["total"].tolist() == [10.0, 20.0]


def test_data_must_be_a_dataframe():
    with pytest.raises(TypeError, match="DataFrame"):
        score([[1] * 10], "MADRS")  # type: ignore[arg-type]


# --- mixed-instrument frames ------------------------------------------------------------------


def test_mixed_instrument_frame_with_aliases():
    qids = [3, 1, 0, 2, 2, 0, 1, 2, 0, 1, 0, 1, 2, 3, 1, 2]   # 16, see test_complete_totals
    bdi = [3] + [0] * 14 + ["2b", 0, "1a", 0, 0, 0]          # 3 + 2 + 1 = 6
    data = frame([2] * 10, [0] * 8 + [1], qids, bdi, [1] * 17, [1] * 8 + [NA] * 2,
                 index=["a", "b", "c", "d", "e", "f"])
    data.insert(0, "instrument", ["madrs", "PHQ9", "qids", "BDI2", "HAMD", "MADRS"])
    data.insert(0, "participant_id", ["P01"] * 6)
    result = score(data)
    assert result.index.tolist() == ["a", "b", "c", "d", "e", "f"]
    assert result["total"].tolist() == [20.0, 1.0, 16.0, 6.0, 17.0, 10.0]  # f: 8 x 10 / 8
    assert result["n_answered"].tolist() == [10, 9, 9, 21, 17, 8]
    assert result["prorated"].tolist() == [False, False, False, False, False, True]
    assert result["severity"].tolist() == ["moderate", "minimal", "severe", "minimal",
                                           "moderate", "mild"]
    assert result["item9_flag"].tolist() == [pd.NA, True, pd.NA, pd.NA, pd.NA, pd.NA]


def test_instrument_argument_and_column_must_agree():
    data = frame([1] * 10, [1] * 10)
    data["instrument"] = ["MADRS", "madrs"]
    assert score(data, "MADRS")["total"].tolist() == [10.0, 10.0]
    data["instrument"] = ["MADRS", "PHQ-9"]
    with pytest.raises(ValueError, match="row 1, instrument column says 'PHQ-9' but "
                                         "instrument='MADRS' was passed"):
        score(data, "MADRS")


def test_instrument_column_problems_are_listed():
    data = frame([1] * 10, [1] * 10, [1] * 10)
    data["instrument"] = ["MADRS", None, "HAMD21"]
    with pytest.raises(ValueError) as caught:
        score(data)
    assert str(caught.value).splitlines() == [
        "cannot tell which scale rows use (known: MADRS, HAM-D17, QIDS-SR16, PHQ-9, BDI-II, "
        "GAD-7, HAM-A, CADSS, BPRS-POSITIVE, YMRS, PCL-5, SHAPS, SHAPS-LIKERT, CGI-S, CGI-I, "
        "PGI-I):",
        "  row 1, instrument is missing",
        "  row 2, unknown instrument 'HAMD21'",
    ]


def test_no_instrument_at_all_is_an_error():
    with pytest.raises(ValueError, match="pass instrument="):
        score(frame([1] * 10))


# --- output shape and input types -------------------------------------------------------------


def test_output_columns_dtypes_and_index():
    data = frame([1] * 9, [NA] * 9, index=[7, 7])  # a repeated index is kept as is
    result = score(data, "PHQ-9")
    assert result.columns.tolist() == ["total", "n_answered", "prorated", "severity",
                                       "item9_flag", "missing_reason", "pcl5_cluster_b",
                                       "pcl5_cluster_c", "pcl5_cluster_d", "pcl5_cluster_e",
                                       "pcl5_provisional_ptsd"]
    assert result.dtypes.astype(str).tolist() == ["float64", "int64", "bool", "string",
                                                  "boolean", "string", "float64", "float64",
                                                  "float64", "float64", "boolean"]
    assert result.index.tolist() == [7, 7]
    assert result["total"].tolist()[0] == 9.0


def test_empty_frame():
    result = score(frame([1] * 10).iloc[:0], "MADRS")
    assert len(result) == 0
    assert result.columns.tolist()[0] == "total"


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([2, 3], dtype="int64"),
        pd.Series([2.0, 3.0], dtype="float64"),
        pd.Series([2, 3], dtype="Int64"),
        pd.Series(["2", "3"], dtype="str"),
        pd.Series(["2", "3"], dtype="string"),
        pd.Series(["2", "3"], dtype="category"),
    ],
)
def test_item_columns_of_any_dtype(column):
    data = pd.DataFrame({f"item_{i}": column for i in range(1, 11)})
    assert score(data, "MADRS")["total"].tolist() == [20.0, 30.0]


def test_string_columns_with_missing_values():
    data = pd.DataFrame({f"item_{i}": pd.Series(["1", None], dtype="str") for i in range(1, 10)})
    result = score(data, "PHQ-9")
    assert result["total"].tolist()[0] == 9.0
    assert result["missing_reason"].tolist()[1] == (
        "0 of 9 items answered; at least 8 needed for prorating")


# --- property-based ---------------------------------------------------------------------------


def reference_total(code: str, items: list[float | None], min_answered: float) -> float:
    """Independent restatement of domain.md section 3 (plain Python, no ketex)."""
    domains = QIDS_DOMAINS if code == "QIDS-SR16" else [[i] for i in range(1, len(items) + 1)]
    units = []
    for domain in domains:
        answered = [items[i - 1] for i in domain if items[i - 1] is not None]
        units.append(max(answered) if answered else None)
    answered_units = [u for u in units if u is not None]
    if len(answered_units) == len(units):
        return float(sum(answered_units))
    if not answered_units or len(answered_units) / len(units) < min_answered:
        return math.nan
    return min(sum(answered_units) / len(answered_units) * len(units), TOTAL_MAX[code])


@st.composite
def scale_rows(draw, missing: bool):
    code = draw(st.sampled_from(list(ITEM_MAX)))
    items = []
    for item_max in ITEM_MAX[code]:
        value = draw(st.integers(0, item_max))
        if missing and draw(st.booleans()):
            items.append(None)
        else:
            items.append(value)
    texts = [
        f"{v}{draw(st.sampled_from('ab'))}" if code == "BDI-II" and i in (16, 18) and v
        else v
        for i, v in enumerate(items, start=1)
    ]
    return code, items, texts


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(scale_rows(missing=False), min_size=1, max_size=6))
def test_property_complete_totals_follow_the_sum_or_domain_rule(rows):
    data = frame(*[texts for _, _, texts in rows])
    data["instrument"] = [code for code, _, _ in rows]
    result = score(data)
    for (code, items, _), (_, row) in zip(rows, result.iterrows(), strict=True):
        assert row["total"] == reference_total(code, items, 0.8)
        assert 0 <= row["total"] <= TOTAL_MAX[code]
        assert row["n_answered"] == (9 if code == "QIDS-SR16" else len(items))
        assert not row["prorated"]


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(scale_rows(missing=True), min_size=1, max_size=6),
       min_answered=st.sampled_from([0.5, 0.6, 2 / 3, 0.75, 0.8, 0.9, 1.0]))
def test_property_prorated_totals_stay_in_range(rows, min_answered):
    data = frame(*[texts for _, _, texts in rows])
    data["instrument"] = [code for code, _, _ in rows]
    result = score(data, min_answered=min_answered)
    for (code, items, _), (_, row) in zip(rows, result.iterrows(), strict=True):
        expected = reference_total(code, items, min_answered)
        if math.isnan(expected):
            assert math.isnan(row["total"])
            assert isinstance(row["missing_reason"], str)
        else:
            assert row["total"] == pytest.approx(expected, rel=1e-12)
            assert 0 <= row["total"] <= TOTAL_MAX[code]
