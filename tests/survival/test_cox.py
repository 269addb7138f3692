"""Cox model: input checks, options and hand-checkable cases (R comparisons live in
test_cox_r_reference.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex.errors import ConvergenceWarning, DataValidationError
from ketex.survival import cox
from ketex.survival.cox import COEF_COLUMNS


def test_coef_columns_and_hazard_ratio(relapse):
    fit = cox(relapse, "arm + age", time="days", event="relapsed")
    assert fit.coef.columns.tolist() == COEF_COLUMNS
    row = fit.coef.iloc[0]
    assert row["hazard_ratio"] == pytest.approx(np.exp(row["estimate"]))
    assert row["hr_ci_low"] == pytest.approx(
        np.exp(row["estimate"] - 1.959963984540054 * row["se"])
    )
    assert fit.hazard_ratios.columns.tolist() == [
        "term", "hazard_ratio", "hr_ci_low", "hr_ci_high", "p_value"
    ]  # fmt: skip
    assert (fit.coef["se"] == fit.coef["se_model"]).all()
    assert fit.terms == ("arm", "age")


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_single_binary_covariate_score_test_is_logrank(relapse, ties):
    """Without tied times the Cox score test at beta = 0 is the log-rank statistic
    (Therneau & Grambsch 2000, section 3.3); with ties the log-rank variance has the
    hypergeometric factor (n - d) / (n - 1) that the Cox information lacks."""
    from ketex.survival import logrank_test

    untied = relapse.assign(days=relapse["days"] + np.arange(len(relapse)) * 1e-4)
    fit = cox(untied, "arm", time="days", event="relapsed", ties=ties)
    test = logrank_test(untied, time="days", event="relapsed", group="arm")
    score = fit.tests.set_index("test").loc["score", "statistic"]
    assert score == pytest.approx(test.statistic, rel=1e-10)
    tied = cox(relapse, "arm", time="days", event="relapsed", ties="breslow")
    assert (
        tied.tests.set_index("test").loc["score", "statistic"]
        < logrank_test(relapse, time="days", event="relapsed", group="arm").statistic
    )


def test_list_of_covariates_equals_formula(relapse):
    a = cox(relapse, ["arm", "age"], time="days", event="relapsed")
    b = cox(relapse, "~ arm + age", time="days", event="relapsed")
    pd.testing.assert_frame_equal(a.coef, b.coef)


def test_column_name_with_space_in_list(relapse):
    data = relapse.rename(columns={"age": "age years"})
    fit = cox(data, ["arm", "age years"], time="days", event="relapsed")
    assert fit.coef["term"].tolist()[1] == 'Q("age years")'


def test_strings_sorted_levels_and_missing_rows(relapse):
    data = relapse.assign(arm=relapse["arm"].astype(str), age=relapse["age"].astype(float))
    data.loc[[0, 1], "age"] = np.nan
    fit = cox(data, "arm + age", time="days", event="relapsed")
    assert fit.coef["term"].tolist() == ["arm[T.single]", "age"]
    assert fit.n_missing == 2 and fit.n_obs == len(relapse) - 2


def test_robust_flag_equals_cluster_on_unique_ids(relapse):
    a = cox(relapse, "arm + age", time="days", event="relapsed", robust=True)
    b = cox(relapse, "arm + age", time="days", event="relapsed", cluster="participant_id")
    pd.testing.assert_frame_equal(a.coef, b.coef)
    assert a.n_clusters == len(relapse)


def test_counting_process_with_one_interval_each_equals_right_censored(relapse):
    data = relapse.assign(start=0.0)
    a = cox(data, "arm + age", time="days", event="relapsed", start="start")
    b = cox(relapse, "arm + age", time="days", event="relapsed")
    np.testing.assert_allclose(a.coef["estimate"], b.coef["estimate"], rtol=1e-10)
    assert a.concordance == pytest.approx(b.concordance, rel=1e-12)


def test_splitting_follow_up_does_not_change_the_fit(relapse):
    """Cutting each participant's follow-up at day 30 into (0, 30], (30, t] leaves a
    fixed-covariate Cox fit unchanged (same risk sets)."""
    first = relapse.assign(start=0, stop=np.minimum(relapse["days"], 30))
    first["relapsed"] = np.where(relapse["days"] > 30, 0, relapse["relapsed"])
    second = relapse[relapse["days"] > 30].assign(start=30, stop=lambda d: d["days"])
    split = pd.concat([first, second], ignore_index=True)
    a = cox(split, "arm + age", time="stop", event="relapsed", start="start",
            cluster="participant_id")  # fmt: skip
    b = cox(relapse, "arm + age", time="days", event="relapsed", cluster="participant_id")
    np.testing.assert_allclose(a.coef["estimate"], b.coef["estimate"], rtol=1e-9)
    np.testing.assert_allclose(a.coef["se"], b.coef["se"], rtol=1e-8)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12)


def test_group_without_events_warns_of_infinite_coefficient():
    d = pd.DataFrame({"t": np.arange(1.0, 13.0), "e": [1, 1, 0, 1, 1, 0] + [0] * 6,
                      "arm": ["a"] * 6 + ["b"] * 6})  # fmt: skip
    with pytest.warns(ConvergenceWarning, match=r"arm\[T.b\]"):
        cox(d, "arm", time="t", event="e")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"formula": "days ~ arm"}, ValueError, "left-hand side"),
        ({"formula": "arm - 1"}, ValueError, "intercept"),
        ({"formula": "arm + arm2"}, DataValidationError, "rank deficient"),
        ({"formula": "constant"}, DataValidationError, "constant columns"),
        ({"formula": ["arm", "dose"]}, DataValidationError, r"\['dose'\] are not in the data"),
        ({"ties": "exact"}, ValueError, "ties"),
        ({"cluster": "clinic"}, DataValidationError, "cluster column 'clinic'"),
        ({"start": "days"}, DataValidationError, "start < stop"),
    ],
)
def test_bad_input(relapse, kwargs, error, message):
    data = relapse.assign(arm2=(relapse["arm"] == "series").astype(float), constant=1.0)
    arguments = {"formula": "arm + age", "time": "days", "event": "relapsed"} | kwargs
    formula = arguments.pop("formula")
    with pytest.raises(error, match=message):
        cox(data, formula, **arguments)


def test_no_events_is_an_error(relapse):
    with pytest.raises(DataValidationError, match="no events"):
        cox(relapse.assign(relapsed=0), "arm", time="days", event="relapsed")


def test_result_is_frozen(relapse):
    fit = cox(relapse, "arm", time="days", event="relapsed")
    with pytest.raises(AttributeError):
        fit.loglik = 0.0  # type: ignore[misc]


def test_ph_test_options(relapse):
    fit = cox(relapse, "arm + age + severity", time="days", event="relapsed")
    by_column = fit.ph_test(terms=False)
    assert by_column.table["term"].tolist()[:-1] == fit.coef["term"].tolist()
    assert by_column.table["df"].tolist() == [1, 1, 1, 1, 4]
    with pytest.raises(ValueError, match="transform"):
        fit.ph_test(transform="spline")


def test_ph_plot_returns_axes(relapse):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fit = cox(relapse, "arm + age", time="days", event="relapsed")
    fig, ax = plt.subplots()
    assert fit.ph_test().plot("arm", ax=ax) is ax
    with pytest.raises(ValueError, match="term 'dose'"):
        fit.ph_test().plot("dose", ax=ax)
    plt.close(fig)


def test_not_converging_is_an_error(relapse):
    from ketex.errors import ConvergenceError

    with pytest.raises(ConvergenceError, match="1 Newton-Raphson iterations"):
        cox(relapse, "arm + age", time="days", event="relapsed", max_iterations=1)


def test_two_strata_columns_equal_their_combination(relapse):
    data = relapse.assign(site_severity=relapse["site"] + "/" + relapse["severity"].astype(str))
    a = cox(data, "arm + age", time="days", event="relapsed", strata=["site", "severity"])
    b = cox(data, "arm + age", time="days", event="relapsed", strata="site_severity")
    np.testing.assert_allclose(a.coef["estimate"], b.coef["estimate"], rtol=1e-12)
    assert len(a.strata) == 9 and a.strata[0] == "site=A, severity=mild"
