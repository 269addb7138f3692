"""Effect summaries against published worked examples and hand computation.

Published values (rounded to 4 decimals in the papers, so compared within 5e-5):

- Newcombe RG (1998a), Stat Med 17:857-872, Table I: 95% intervals for 81/263, 15/148,
  0/20 and 1/29 by the Wilson score method (method 3), with continuity correction
  (method 4) and Clopper-Pearson (method 5).
- Newcombe RG (1998b), Stat Med 17:873-890, Table II: 95% intervals for the difference
  of two independent proportions, hybrid score method 10 (and method 11 for (a)).
- Fagerland, Lydersen & Laake (2015), Stat Methods Med Res 24:224-254: 7/34 vs 1/34,
  reported to two significant figures (compared within half a unit of the last digit).

Full-precision agreement with statsmodels' independent implementations is checked too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from ketex.effects import (
    number_needed_to_treat,
    odds_ratio,
    rate_ci,
    rate_table,
    relative_risk,
    risk_difference,
    wilson,
)
from ketex.report import _effects
from ketex.simulate.power import wilson_interval

SINGLE = [  # (x, n), method 3 (wilson), method 4 (wilson_cc), method 5 (exact)
    ((81, 263), (0.2553, 0.3662), (0.2535, 0.3682), (0.2527, 0.3676)),
    ((15, 148), (0.0624, 0.1605), (0.0598, 0.1644), (0.0578, 0.1617)),
    ((0, 20), (0.0000, 0.1611), (0.0000, 0.2005), (0.0000, 0.1684)),
    ((1, 29), (0.0061, 0.1718), (0.0018, 0.1963), (0.0009, 0.1776)),
]

DIFFERENCE = [  # (x1, n1, x2, n2), method 10 interval
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "wilson", "wilson_cc", "exact"), SINGLE)
def test_single_proportion_newcombe_1998a(counts, wilson, wilson_cc, exact):
    for method, expected in [("wilson", wilson), ("wilson_cc", wilson_cc), ("exact", exact)]:
        row = rate_ci(*counts, method=method).iloc[0]
        assert row[["ci_low", "ci_high"]].tolist() == pytest.approx(expected, abs=5e-5), method


@pytest.mark.parametrize(("counts", "expected"), [(c, w) for c, w, _, _ in SINGLE])
def test_the_one_wilson_interval_newcombe_1998a(counts, expected):
    """effects.wilson on Newcombe's Table I (method 3); the table's and the power
    analyses' intervals are that function, to the last bit."""
    rate, low, high = wilson(*counts)
    assert (low, high) == pytest.approx(expected, abs=5e-5)
    assert rate == counts[0] / counts[1]
    assert _effects.wilson(*counts) == (rate, low, high)
    assert wilson_interval(*counts) == (low, high)
    row = rate_ci(*counts).iloc[0]
    assert (row["ci_low"], row["ci_high"]) == (low, high)


def test_the_one_wilson_interval_refuses_what_rate_ci_refuses():
    assert np.isnan(wilson(0, 0)).all() and np.isnan(wilson_interval(0, 0)).all()
    with pytest.raises(ValueError, match="must not exceed n"):
        wilson(5, 4)
    with pytest.raises(ValueError, match="conf_level must be between 0 and 1"):
        wilson(1, 4, conf_level=95)
    with pytest.raises(ValueError, match="one proportion"):
        wilson([1, 2], [4, 4])


def test_wald_by_hand():
    """81/263: p = 0.3079848, se = sqrt(p (1 - p) / 263) = 0.0284672, z se = 0.0557947
    (Newcombe 1998a, method 1: 0.2522 to 0.3638)."""
    row = rate_ci(81, 263, method="wald").iloc[0]
    assert row["ci_low"] == pytest.approx(0.2521901, abs=1e-7)
    assert row["ci_high"] == pytest.approx(0.3637795, abs=1e-7)


@pytest.mark.parametrize(("x", "n"), [(81, 263), (15, 148), (0, 20), (1, 29), (20, 20)])
def test_single_proportion_same_as_statsmodels(x, n):
    for ours, theirs in [("wilson", "wilson"), ("exact", "beta")]:
        row = rate_ci(x, n, method=ours, conf_level=0.9).iloc[0]
        expected = proportion_confint(x, n, alpha=0.1, method=theirs)
        np.testing.assert_allclose(row[["ci_low", "ci_high"]].to_numpy(float), expected,
                                   rtol=1e-10, atol=1e-14)  # fmt: skip


@pytest.mark.parametrize(("counts", "expected"), DIFFERENCE)
def test_risk_difference_newcombe_1998b(counts, expected):
    row = risk_difference(*counts).iloc[0]
    assert row["estimate"] == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert row[["ci_low", "ci_high"]].tolist() == pytest.approx(expected, abs=5e-5)
    theirs = confint_proportions_2indep(*counts, method="newcomb", compare="diff")
    np.testing.assert_allclose(row[["ci_low", "ci_high"]].to_numpy(float), theirs, rtol=1e-10)


def test_risk_difference_method_11_newcombe_1998b():
    row = risk_difference(56, 70, 48, 80, method="newcombe_cc").iloc[0]
    assert row[["ci_low", "ci_high"]].tolist() == pytest.approx((0.0428, 0.3422), abs=5e-5)


def test_fagerland_2015_example():
    """7/34 vs 1/34: Newcombe 0.019 to 0.34, Woolf OR 0.99 to 74, Katz RR 0.91 to 54."""
    rd = risk_difference(7, 34, 1, 34).iloc[0]
    assert rd["ci_low"] == pytest.approx(0.019, abs=5e-4)
    assert rd["ci_high"] == pytest.approx(0.34, abs=5e-3)
    odds = odds_ratio(7, 34, 1, 34).iloc[0]
    assert odds["estimate"] == pytest.approx(7 * 33 / (27 * 1))
    assert odds["ci_low"] == pytest.approx(0.99, abs=5e-3)
    assert odds["ci_high"] == pytest.approx(74, abs=0.5)
    ratio = relative_risk(7, 34, 1, 34).iloc[0]
    assert ratio["estimate"] == pytest.approx(7.0)
    assert ratio["ci_low"] == pytest.approx(0.91, abs=5e-3)
    assert ratio["ci_high"] == pytest.approx(54, abs=0.5)


def test_odds_ratio_by_hand_with_zero_cell():
    """0/10 vs 5/10: 0.5 added to each cell, OR = (0.5 * 5.5) / (10.5 * 5.5)."""
    row = odds_ratio(0, 10, 5, 10).iloc[0]
    assert row["correction"] == 0.5
    assert row["estimate"] == pytest.approx(0.5 / 10.5)
    assert row["se_log"] == pytest.approx(np.sqrt(1 / 0.5 + 1 / 10.5 + 2 / 5.5))
    no_correction = odds_ratio(0, 10, 5, 10, correction=0).iloc[0]
    assert no_correction["estimate"] == 0.0 and no_correction["correction"] == 0.0
    assert no_correction["ci_low"] == 0.0 and np.isnan(no_correction["ci_high"])


def test_vectorised_inputs_broadcast():
    table = risk_difference([56, 9], [70, 10], [48, 3], [80, 10])
    assert table.columns.tolist() == ["rate_1", "rate_2", "estimate", "ci_low", "ci_high",
                                      "method"]  # fmt: skip
    assert table["ci_low"].tolist() == pytest.approx([0.0524, 0.1705], abs=5e-5)
    assert rate_ci([1, 2, 3], 10)["n"].tolist() == [10, 10, 10]


class TestNumberNeededToTreat:
    def test_benefit_with_finite_interval(self):
        """30/50 vs 18/50 responders: RD 0.24, NNT 1/0.24 = 4.17, interval the reciprocals
        of the Newcombe interval of the RD."""
        result = number_needed_to_treat(30, 50, 18, 50, outcome="desirable")
        rd = risk_difference(30, 50, 18, 50).iloc[0]
        assert result.kind == "NNTB"
        assert result.nnt == pytest.approx(1 / 0.24)
        assert not result.ci_includes_infinity
        assert (result.ci_low, result.ci_high) == pytest.approx(
            (1 / rd["ci_high"], 1 / rd["ci_low"])
        )
        assert result.nntb_limit is None and result.nnth_limit is None

    def test_relapse_is_undesirable_so_fewer_relapses_is_benefit(self):
        result = number_needed_to_treat(10, 50, 20, 50, outcome="undesirable")
        assert result.risk_difference == pytest.approx(-0.2)
        assert result.benefit == pytest.approx(0.2)
        assert result.kind == "NNTB" and result.nnt == pytest.approx(5.0)

    def test_harm(self):
        result = number_needed_to_treat(10, 50, 30, 50, outcome="desirable")
        assert result.kind == "NNTH" and result.nnt == pytest.approx(2.5)
        assert result.text.startswith("NNTH 2.5 (95% CI NNTH ")

    def test_interval_through_infinity_altman_1998(self):
        """RD CI (-0.2703, 0.1286) for relapse 12/40 vs 15/40: benefit CI (-0.1286,
        0.2703), so NNTH 1/0.1286 = 7.8 to infinity to NNTB 1/0.2703 = 3.7."""
        result = number_needed_to_treat(12, 40, 15, 40, outcome="undesirable")
        assert result.ci_includes_infinity
        assert np.isnan(result.ci_low) and np.isnan(result.ci_high)
        assert result.nnth_limit == pytest.approx(1 / 0.12855951535657295)
        assert result.nntb_limit == pytest.approx(1 / 0.27030866732835834)
        assert result.text == "NNTB 13.3 (95% CI NNTH 7.8 to infinity to NNTB 3.7)"
        assert result.to_frame()["text"].iloc[0] == result.text

    def test_no_difference(self):
        result = number_needed_to_treat(10, 50, 10, 50, outcome="desirable")
        assert result.kind == "none" and result.nnt == np.inf
        assert result.ci_includes_infinity
        assert result.rounded_text.startswith("no difference (NNT \u221e) (95% CI NNTH ")

    def test_rounded_text_rounds_up_to_whole_participants_altman_1998(self):
        """NNT and its limits rounded up: 30/50 vs 18/50 gives NNTB 4.17 (2.430 to 22.578)
        -> NNTB 5 (3 to 23); infinity is printed as the symbol."""
        result = number_needed_to_treat(30, 50, 18, 50, outcome="desirable")
        assert (result.ci_low, result.ci_high) == pytest.approx((2.430, 22.578), abs=5e-4)
        assert result.rounded_text == "NNTB 5 (95% CI NNTB 3 to 23)"
        through = number_needed_to_treat(12, 40, 15, 40, outcome="undesirable")
        assert through.rounded_text == "NNTB 14 (95% CI NNTH 8 to \u221e to NNTB 4)"
        assert through.nnt == pytest.approx(1 / 0.075)  # unrounded on the result

    def test_rounded_text_keeps_a_whole_nnt_whole(self):
        """3/10 vs 2/10: RD 0.3 - 0.2 = 0.09999999999999998 in floating point, whose
        reciprocal 10.000000000000002 is NNTB 10, not 11; RD -0.4 prints 3 (2.5 up)."""
        result = number_needed_to_treat(3, 10, 2, 10, outcome="desirable")
        assert result.nnt > 10
        assert result.rounded_text.startswith("NNTB 10 ")
        assert number_needed_to_treat(10, 50, 30, 50, outcome="desirable"
                                      ).rounded_text.startswith("NNTH 3 (")  # fmt: skip

    def test_outcome_must_be_given_and_valid(self):
        with pytest.raises(TypeError):
            number_needed_to_treat(10, 50, 20, 50)  # type: ignore[call-arg]
        with pytest.raises(ValueError, match="desirable"):
            number_needed_to_treat(10, 50, 20, 50, outcome="good")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="single count"):
            number_needed_to_treat([10, 1], 50, 20, 50, outcome="desirable")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((11, 10), "successes must not exceed n"),
        ((-1, 10), "successes must be whole numbers >= 0"),
        ((1.5, 10), "successes must be whole numbers >= 0"),
        ((0, 0), "n must be positive"),
    ],
)
def test_bad_counts(arguments, message):
    with pytest.raises(ValueError, match=message):
        rate_ci(*arguments)


def test_bad_options():
    with pytest.raises(ValueError, match="method"):
        rate_ci(1, 10, method="agresti")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        risk_difference(1, 10, 2, 10, method="mn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="conf_level"):
        rate_ci(1, 10, conf_level=95)
    with pytest.raises(ValueError, match="x1 must not exceed n1"):
        odds_ratio(11, 10, 1, 10)


def test_rate_table_by_arm():
    d = pd.DataFrame(
        {"arm": pd.Categorical(["PBO", "KET", "KET", "PBO", "KET", None],
                               categories=["PBO", "KET"]),
         "remitted": [True, True, False, pd.NA, True, True]}
    ).astype({"remitted": "boolean"})  # fmt: skip
    table = rate_table(d, outcome="remitted", group="arm")
    assert table["group"].tolist() == ["PBO", "KET"]
    assert table["successes"].tolist() == [1, 2]
    assert table["n"].tolist() == [1, 3]
    assert table["n_missing"].tolist() == [1, 0]
    expected = rate_ci(2, 3).iloc[0]
    assert table.iloc[1]["ci_low"] == pytest.approx(expected["ci_low"])
    with pytest.raises(ValueError, match="outcome column 'arm' must be 0/1"):
        rate_table(d, outcome="arm")
    with pytest.raises(ValueError, match="2 rows are not"):
        rate_table(pd.DataFrame({"y": [0, 2, 3]}), outcome="y")
