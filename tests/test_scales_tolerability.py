"""Tests of the tolerability and safety scales in ketex.scales (issue #14).

GAD-7, HAM-A, CADSS, BPRS-POSITIVE, YMRS, PCL-5, SHAPS (dichotomous and Likert), CGI-S,
CGI-I and PGI-I. Expected values are worked out by hand next to each case, from the
sources cited in ketex/scales/instruments.py, never computed with the code under test.
"""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from ketex.scales import (
    INSTRUMENTS,
    Instrument,
    check_total,
    get_instrument,
    parse_item,
    score,
    severity,
)

NA = None  # a missing item

# Hand-written copies of the sources (see the module docstring of ketex.scales).
YMRS_MAX = [4, 4, 4, 4, 8, 8, 4, 8, 8, 4, 4]  # items 5, 6, 8, 9 are 0-8 (Young 1978)
DEFINITIONS = {  # code: (n_items, item_min, item_max, total_min, total_max)
    "GAD-7": (7, 0, [3] * 7, 0, 21),
    "HAM-A": (14, 0, [4] * 14, 0, 56),
    "CADSS": (23, 0, [4] * 23, 0, 92),
    "BPRS-POSITIVE": (4, 1, [7] * 4, 4, 28),
    "YMRS": (11, 0, YMRS_MAX, 0, 60),
    "PCL-5": (20, 0, [4] * 20, 0, 80),
    "SHAPS": (14, 1, [4] * 14, 0, 14),
    "SHAPS-LIKERT": (14, 1, [4] * 14, 14, 56),
    "CGI-S": (1, 1, [7], 1, 7),
    "CGI-I": (1, 1, [7], 1, 7),
    "PGI-I": (1, 1, [7], 1, 7),
}
BANDS = {
    "GAD-7": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
    "SHAPS": [(0, 2, "normal"), (3, 14, "abnormal")],
    "CGI-S": [(1, 1, "normal, not at all ill"), (2, 2, "borderline mentally ill"),
              (3, 3, "mildly ill"), (4, 4, "moderately ill"), (5, 5, "markedly ill"),
              (6, 6, "severely ill"), (7, 7, "among the most extremely ill patients")],
    "CGI-I": [(1, 1, "very much improved"), (2, 2, "much improved"),
              (3, 3, "minimally improved"), (4, 4, "no change"), (5, 5, "minimally worse"),
              (6, 6, "much worse"), (7, 7, "very much worse")],
    "PGI-I": [(1, 1, "very much better"), (2, 2, "much better"), (3, 3, "a little better"),
              (4, 4, "no change"), (5, 5, "a little worse"), (6, 6, "much worse"),
              (7, 7, "very much worse")],
}
NO_BANDS = ["HAM-A", "CADSS", "BPRS-POSITIVE", "YMRS", "PCL-5", "SHAPS-LIKERT"]


def frame(*rows: list, index: list | None = None) -> pd.DataFrame:
    width = max(len(row) for row in rows)
    columns = [f"item_{i}" for i in range(1, width + 1)]
    padded = [list(row) + [None] * (width - len(row)) for row in rows]
    return pd.DataFrame(padded, columns=columns, index=index, dtype=object)


def score_one(items: list, instrument: str, **options) -> pd.Series:
    return score(frame(items), instrument, **options).iloc[0]


# --- definitions --------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(DEFINITIONS))
def test_definitions_match_the_sources(code):
    n_items, item_min, item_max, total_min, total_max = DEFINITIONS[code]
    inst = INSTRUMENTS[code]
    assert (inst.n_items, inst.item_min, list(inst.item_max)) == (n_items, item_min, item_max)
    assert (inst.total_min, inst.total_max) == (total_min, total_max)
    assert [tuple(b) for b in inst.bands] == BANDS.get(code, [])
    assert not inst.prorating  # no manual of these gives a prorating rule
    assert inst.source


def test_pcl5_clusters_and_shaps_response_scores():
    assert INSTRUMENTS["PCL-5"].subscales == (
        ("B", (1, 2, 3, 4, 5)), ("C", (6, 7)), ("D", (8, 9, 10, 11, 12, 13, 14)),
        ("E", (15, 16, 17, 18, 19, 20)))
    # strongly agree, agree -> 0; disagree, strongly disagree -> 1 (Snaith 1995)
    assert INSTRUMENTS["SHAPS"].response_scores == (0, 0, 1, 1)
    assert INSTRUMENTS["SHAPS-LIKERT"].response_scores == ()


def test_depression_scales_still_prorate():
    assert all(INSTRUMENTS[c].prorating
               for c in ["MADRS", "HAM-D17", "QIDS-SR16", "PHQ-9", "BDI-II"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"response_scores": (0, 1)}, "one score per response"),
        ({"total_min": 1}, "total_min 1 is not the sum of the domain minima"),
        ({"item_min": 1}, "total_min 0 is not the sum of the domain minima"),
        ({"subscales": (("A", (1, 4)),)}, "subscales must hold item numbers"),
        ({"item_min": 1, "total_min": 3, "bands": ((0, 9, "all"),)}, "cover 3..9"),
    ],
)
def test_inconsistent_definitions_are_rejected(changes, message):
    parts = dict(code="TOY", name="toy", n_items=3, item_max=(3, 3, 3), total_max=9,
                 bands=(), domains=((1,), (2,), (3,)))
    parts.update(changes)
    with pytest.raises(ValueError, match=message):
        Instrument(**parts)


@pytest.mark.parametrize(
    ("alias", "code"),
    [("gad7", "GAD-7"), ("HAMA", "HAM-A"), ("ham-a", "HAM-A"), ("HARS", "HAM-A"),
     ("cadss", "CADSS"), ("BPRS-POS", "BPRS-POSITIVE"), ("bprs positive", "BPRS-POSITIVE"),
     ("ymrs", "YMRS"), ("PCL5", "PCL-5"), ("shaps", "SHAPS"), ("SHAPS-L", "SHAPS-LIKERT"),
     ("shaps likert", "SHAPS-LIKERT"), ("CGIS", "CGI-S"), ("cgi-i", "CGI-I"),
     ("PGII", "PGI-I")],
)
def test_aliases(alias, code):
    assert get_instrument(alias).code == code


@pytest.mark.parametrize("unknown", ["BPRS", "GAD", "PCL", "CGI", "HAM-A21"])
def test_unknown_names(unknown):
    with pytest.raises(ValueError, match="unknown instrument"):
        get_instrument(unknown)


# --- complete totals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "items", "total", "label"),
    [
        ("GAD-7", [0] * 7, 0, "minimal"),
        ("GAD-7", [3] * 7, 21, "severe"),
        ("GAD-7", [0, 1, 2, 3, 0, 1, 2], 9, "mild"),             # 6 + 3
        ("HAM-A", [0] * 14, 0, pd.NA),
        ("HAM-A", [4] * 14, 56, pd.NA),
        ("HAM-A", [0, 1, 2, 3, 4] * 2 + [4, 3, 2, 1], 30, pd.NA),  # 10 + 10 + 10
        ("CADSS", [0] * 23, 0, pd.NA),
        ("CADSS", [4] * 23, 92, pd.NA),
        ("CADSS", [1] * 10 + [2] * 10 + [4, 0, 3], 37, pd.NA),    # 10 + 20 + 7
        ("BPRS-POSITIVE", [1] * 4, 4, pd.NA),
        ("BPRS-POSITIVE", [7] * 4, 28, pd.NA),
        ("BPRS-POSITIVE", [1, 7, 3, 5], 16, pd.NA),
        ("YMRS", [0] * 11, 0, pd.NA),
        ("YMRS", YMRS_MAX, 60, pd.NA),                            # 7 x 4 + 4 x 8
        ("YMRS", [1, 2, 0, 3, 6, 2, 1, 8, 0, 4, 2], 29, pd.NA),   # 1+2+0+3+6+2+1+8+0+4+2
        ("PCL-5", [0] * 20, 0, pd.NA),
        ("PCL-5", [4] * 20, 80, pd.NA),
        ("PCL-5", [1, 2, 3, 4] * 5, 50, pd.NA),                   # 10 x 5
        # dichotomous: responses 3 and 4 score 1: 2 per block of four x 3, then 3 -> 1, 2 -> 0
        ("SHAPS", [1] * 14, 0, "normal"),
        ("SHAPS", [4] * 14, 14, "abnormal"),
        ("SHAPS", [1, 2, 3, 4] * 3 + [3, 2], 7, "abnormal"),
        ("SHAPS", [3, 4] + [2] * 12, 2, "normal"),                # band edge 2 | 3
        ("SHAPS", [3, 4, 3] + [2] * 11, 3, "abnormal"),
        # Likert: the same responses summed: 10 x 3 + 3 + 2
        ("SHAPS-LIKERT", [1] * 14, 14, pd.NA),
        ("SHAPS-LIKERT", [4] * 14, 56, pd.NA),
        ("SHAPS-LIKERT", [1, 2, 3, 4] * 3 + [3, 2], 35, pd.NA),
        ("CGI-S", [1], 1, "normal, not at all ill"),
        ("CGI-S", [4], 4, "moderately ill"),
        ("CGI-S", [7], 7, "among the most extremely ill patients"),
        ("CGI-I", [1], 1, "very much improved"),
        ("CGI-I", [2], 2, "much improved"),
        ("CGI-I", [7], 7, "very much worse"),
        ("PGI-I", [3], 3, "a little better"),
        ("PGI-I", [5], 5, "a little worse"),
    ],
)
def test_complete_totals(instrument, items, total, label):
    result = score_one(items, instrument)
    assert result["total"] == total
    assert (result["severity"] is pd.NA) if label is pd.NA else result["severity"] == label
    assert result["n_answered"] == len(items)
    assert not result["prorated"]
    assert result["missing_reason"] is pd.NA
    assert result["item9_flag"] is pd.NA


def test_same_shaps_responses_score_both_ways():
    responses = [1, 2, 3, 4, 4, 3, 2, 1, 1, 1, 4, 4, 2, 3]
    # dichotomous: responses 3 or 4 at items 3, 4, 5, 6, 11, 12, 14 -> 7
    # Likert: 1+2+3+4+4+3+2+1+1+1+4+4+2+3 = 35
    data = frame(responses, responses)
    data["instrument"] = ["SHAPS", "SHAPS-LIKERT"]
    assert score(data)["total"].tolist() == [7.0, 35.0]


# --- items ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "item", "value", "expected"),
    [("SHAPS", 1, 1, 0.0), ("SHAPS", 1, "2", 0.0), ("SHAPS", 14, 3, 1.0), ("SHAPS", 7, 4, 1.0),
     ("SHAPS-LIKERT", 1, 3, 3.0), ("YMRS", 5, 8, 8.0), ("YMRS", 9, 8, 8.0),
     ("BPRS-POSITIVE", 4, 1, 1.0), ("CGI-S", 1, "7", 7.0), ("PCL-5", 20, 4, 4.0)],
)
def test_parse_item_valid(instrument, item, value, expected):
    assert parse_item(value, instrument, item) == expected


@pytest.mark.parametrize(
    ("instrument", "item", "value", "message"),
    [
        ("GAD-7", 1, 4, "GAD-7 item 1: 4 is outside the valid range (valid: 0..3)"),
        ("HAM-A", 14, 5, "HAM-A item 14: 5 is outside the valid range (valid: 0..4)"),
        ("CADSS", 23, 5, "CADSS item 23: 5 is outside the valid range (valid: 0..4)"),
        ("CADSS", 1, -1, "CADSS item 1: -1 is outside the valid range (valid: 0..4)"),
        ("BPRS-POSITIVE", 1, 0, "BPRS-POSITIVE item 1: 0 is outside the valid range "
                                "(valid: 1..7)"),
        ("BPRS-POSITIVE", 2, 8, "(valid: 1..7)"),
        ("YMRS", 1, 5, "YMRS item 1: 5 is outside the valid range (valid: 0..4)"),
        ("YMRS", 5, 9, "YMRS item 5: 9 is outside the valid range (valid: 0..8)"),
        ("YMRS", 7, 8, "YMRS item 7: 8 is outside the valid range (valid: 0..4)"),
        ("PCL-5", 1, 5, "PCL-5 item 1: 5 is outside the valid range (valid: 0..4)"),
        ("SHAPS", 1, 0, "SHAPS item 1: 0 is outside the valid range (valid: 1..4)"),
        ("SHAPS", 1, 5, "SHAPS item 1: 5 is outside the valid range (valid: 1..4)"),
        ("SHAPS-LIKERT", 1, 0, "(valid: 1..4)"),
        ("CGI-S", 1, 0, "CGI-S item 1: 0 is outside the valid range (valid: 1..7)"),
        ("CGI-I", 1, 8, "CGI-I item 1: 8 is outside the valid range (valid: 1..7)"),
        ("PGI-I", 1, 2.5, "PGI-I item 1: 2.5 is not a whole number (valid: 1..7)"),
    ],
)
def test_parse_item_out_of_range(instrument, item, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_item(value, instrument, item)


def test_score_lists_out_of_range_items():
    data = frame([0] * 4 + [9] + [0] * 6, [5] + [0] * 10, index=["a", "b"])
    with pytest.raises(ValueError) as caught:
        score(data, "YMRS")
    assert str(caught.value).splitlines() == [
        "invalid item values:",
        "  row 'a', column 'item_5' (YMRS): 9 is outside the valid range (valid: 0..8)",
        "  row 'b', column 'item_1' (YMRS): 5 is outside the valid range (valid: 0..4)",
    ]


# --- missing items: no prorating ---------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "items", "reason"),
    [
        ("GAD-7", [1] * 6 + [NA], "6 of 7 items answered; all 7 needed: the GAD-7 has no "
                                  "prorating rule"),
        ("HAM-A", [2] * 13 + [NA], "13 of 14 items answered; all 14 needed: the HAM-A has "
                                   "no prorating rule"),
        ("CADSS", [NA] + [0] * 22, "22 of 23 items answered; all 23 needed: the CADSS"),
        ("BPRS-POSITIVE", [1, 1, NA, 1], "3 of 4 items answered; all 4 needed"),
        ("YMRS", [0] * 10 + [NA], "10 of 11 items answered; all 11 needed"),
        ("PCL-5", [1] * 19 + [NA], "19 of 20 items answered; all 20 needed: the PCL-5"),
        ("SHAPS", [2] * 13 + [NA], "13 of 14 items answered; all 14 needed: the SHAPS has"),
        ("SHAPS-LIKERT", [2] * 13 + [NA], "all 14 needed: the SHAPS-LIKERT has no"),
        ("CGI-S", [NA], "0 of 1 items answered; all 1 needed: the CGI-S has no prorating"),
    ],
)
@pytest.mark.parametrize("options", [{}, {"min_answered": 0.5}, {"prorate": False}])
def test_prorating_is_refused(instrument, items, reason, options):
    # 6 of 7 GAD-7 items (0.86) would pass the default 0.8 on a depression scale
    result = score_one(items, instrument, **options)
    assert math.isnan(result["total"])
    assert not result["prorated"]
    assert result["severity"] is pd.NA
    assert reason in result["missing_reason"]


def test_a_depression_scale_in_the_same_frame_is_still_prorated():
    data = frame([1] * 6 + [NA], [1] * 8 + [NA])
    data["instrument"] = ["GAD-7", "PHQ-9"]
    result = score(data)
    assert math.isnan(result["total"].iloc[0])
    assert result["total"].iloc[1] == 9.0  # 8 x 9 / 8
    assert result["prorated"].tolist() == [False, True]


# --- severity and check_total --------------------------------------------------------------


GAD7_EDGES = [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
              (14, "moderate"), (15, "severe"), (21, "severe")]


@pytest.mark.parametrize(("total", "label"), GAD7_EDGES)
def test_gad7_band_edges(total, label):
    assert severity(total, "GAD-7") == label
    assert severity(pd.Series([float(total)]), "GAD-7").tolist() == [label]


@pytest.mark.parametrize(("total", "label"), [(4, "minimal"), (5, "mild"), (9, "mild"),
                                              (10, "moderate"), (14, "moderate"),
                                              (15, "severe")])
def test_gad7_band_edges_from_items(total, label):
    items = [3] * (total // 3) + [total % 3] + [0] * 7  # e.g. 14 = 3+3+3+3+2
    assert score_one(items[:7], "GAD-7")["severity"] == label


@pytest.mark.parametrize(("instrument", "total", "label"),
                         [("SHAPS", 0, "normal"), ("SHAPS", 2, "normal"),
                          ("SHAPS", 2.5, "normal"), ("SHAPS", 3, "abnormal"),
                          ("SHAPS", 14, "abnormal"), ("CGI-S", 1, "normal, not at all ill"),
                          ("CGI-S", 2, "borderline mentally ill"), ("CGI-I", 4, "no change"),
                          ("PGI-I", 7, "very much worse")])
def test_other_band_edges(instrument, total, label):
    assert severity(total, instrument) == label


@pytest.mark.parametrize("instrument", NO_BANDS)
def test_severity_refused_without_bands(instrument):
    with pytest.raises(ValueError, match=f"{re.escape(instrument)} has no severity bands"):
        severity(10, instrument)


@pytest.mark.parametrize(
    ("instrument", "total", "message"),
    [("GAD-7", 22, "GAD-7 total 22 is outside the valid range 0..21"),
     ("BPRS-POSITIVE", 3, "BPRS-POSITIVE total 3 is outside the valid range 4..28"),
     ("BPRS-POSITIVE", 29, "outside the valid range 4..28"),
     ("SHAPS-LIKERT", 13, "SHAPS-LIKERT total 13 is outside the valid range 14..56"),
     ("SHAPS", 15, "SHAPS total 15 is outside the valid range 0..14"),
     ("CGI-I", 0, "CGI-I total 0 is outside the valid range 1..7"),
     ("YMRS", 61, "0..60"), ("PCL-5", 81, "0..80"), ("CADSS", 93, "0..92"),
     ("HAM-A", 57, "0..56")],
)
def test_check_total_ranges(instrument, total, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_total(total, instrument)


@pytest.mark.parametrize(("instrument", "total"),
                         [("BPRS-POSITIVE", 4), ("SHAPS-LIKERT", 56), ("CGI-S", 7),
                          ("YMRS", 60), ("PCL-5", 0)])
def test_check_total_accepts_the_edges(instrument, total):
    assert check_total(total, instrument) is None


def test_severity_series_outside_range():
    with pytest.raises(ValueError, match=r"1 SHAPS totals are outside the valid range 0..14"):
        severity(pd.Series([3.0, 15.0]), "SHAPS")
    with pytest.raises(ValueError, match=r"CGI-S totals are outside the valid range 1..7"):
        severity(pd.Series([0.0]), "CGI-S")


# --- PCL-5 clusters and provisional diagnosis ---------------------------------------------

# B 1-5, C 6-7, D 8-14, E 15-20; the rule needs 1 B, 1 C, 2 D, 2 E items rated 2 or more.
B, C, D, E = [2, 0, 0, 0, 0], [2, 0], [2, 2, 0, 0, 0, 0, 0], [2, 2, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("items", "clusters", "total", "diagnosis"),
    [
        (B + C + D + E, [2, 2, 4, 4], 12, True),              # exactly the minimum
        ([1, 1, 1, 1, 1] + C + D + E, [5, 2, 4, 4], 15, False),  # no B item reaches 2
        (B + [1, 1] + D + E, [2, 2, 4, 4], 12, False),        # no C item reaches 2
        (B + C + [2, 1, 1, 1, 1, 1, 1] + E, [2, 2, 8, 4], 16, False),  # only one D item
        (B + C + D + [2, 1, 1, 1, 1, 1], [2, 2, 4, 7], 15, False),     # only one E item
        ([4] * 20, [20, 8, 28, 24], 80, True),
        ([0] * 20, [0, 0, 0, 0], 0, False),
        # a high total without the pattern: B and C maxed, D and E all 1 -> 28 + 13 = 41,
        # above the 31-33 cut-off but no provisional diagnosis
        ([4] * 5 + [4, 4] + [1] * 13, [20, 8, 7, 6], 41, False),
    ],
)
def test_pcl5_provisional_diagnosis(items, clusters, total, diagnosis):
    result = score_one(items, "PCL-5")
    assert result["total"] == total
    assert [result[f"pcl5_cluster_{c}"] for c in "bcde"] == clusters
    assert result["pcl5_provisional_ptsd"] == diagnosis


@pytest.mark.parametrize(
    ("items", "diagnosis", "cluster_b"),
    [
        # item 1 missing, no other B item at 2: undecided
        ([NA, 0, 0, 0, 0] + C + D + E, pd.NA, math.nan),
        # item 1 missing but item 2 already meets B: True without the total
        ([NA, 2, 0, 0, 0] + C + D + E, True, math.nan),
        # D has one item at 2 and one missing: the missing one could make 2 -> undecided
        (B + C + [2, NA, 0, 0, 0, 0, 0] + E, pd.NA, 2.0),
        # D has no item at 2 and one missing: 2 D items cannot be reached -> False
        (B + C + [1, NA, 0, 0, 0, 0, 0] + E, False, 2.0),
    ],
)
def test_pcl5_diagnosis_with_missing_items(items, diagnosis, cluster_b):
    result = score_one(items, "PCL-5")
    assert math.isnan(result["total"])  # no prorating
    if diagnosis is pd.NA:
        assert result["pcl5_provisional_ptsd"] is pd.NA
    else:
        assert result["pcl5_provisional_ptsd"] == diagnosis
    if math.isnan(cluster_b):
        assert math.isnan(result["pcl5_cluster_b"])
    else:
        assert result["pcl5_cluster_b"] == cluster_b


def test_pcl5_outputs_are_missing_on_other_scales():
    data = frame(B + C + D + E, [1] * 7)
    data["instrument"] = ["PCL5", "gad7"]
    result = score(data)
    assert result["pcl5_provisional_ptsd"].tolist() == [True, pd.NA]
    assert result["pcl5_cluster_d"].iloc[0] == 4.0
    assert math.isnan(result["pcl5_cluster_d"].iloc[1])
    assert result["total"].tolist() == [12.0, 7.0]
    assert result["severity"].tolist() == [pd.NA, "mild"]
