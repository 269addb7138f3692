"""ketex.gee: input checks, errors and warnings, and properties of the fit."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ketex.errors import ConvergenceError, ConvergenceWarning, DataValidationError
from ketex.models.gee import gee

FORMULA = "remission ~ arm + visit"


def trial(n: int = 40, seed: int = 0, visits=("W2", "W4", "W8")) -> pd.DataFrame:
    """A small two-arm trial with a correlated binary outcome, long format."""
    rng = np.random.default_rng(seed)
    k = len(visits)
    d = pd.DataFrame(
        {
            "id": np.repeat([f"P{i:02d}" for i in range(n)], k),
            "visit": np.tile(list(visits), n),
            "arm": np.repeat(np.tile(["control", "exercise"], n // 2), k),
            "age": np.repeat(rng.integers(20, 65, n), k).astype(float),
        }
    )
    latent = np.repeat(rng.normal(size=n), k) + rng.normal(size=n * k)
    threshold = -0.3 + 0.8 * (d["arm"] == "exercise") + 0.2 * np.tile(np.arange(k), n)
    d["remission"] = (latent < threshold).astype(int)
    return d


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return trial()


# ------------------------------------------------------------------ inputs
def test_data_must_be_a_dataframe():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        gee({"a": [1]}, FORMULA, subject="id")


def test_formula_needs_an_outcome(data):
    with pytest.raises(ValueError, match="formula must be a string"):
        gee(data, "arm + visit", subject="id")
    with pytest.raises(ValueError, match="formula must be a string"):
        gee(data, "~ arm", subject="id")


def test_bad_options_are_reported_together(data):
    with pytest.raises(ValueError) as error:
        gee(
            data,
            FORMULA,
            subject="id",
            family="logistic",
            correlation="toeplitz",
            vcov="jackknife",
            df=-3,
            conf_level=95,
        )
    message = str(error.value)
    for fragment in (
        "family must be one of",
        "correlation must be one of",
        "vcov must be one of",
        "df must be None",
        "conf_level must be",
    ):
        assert fragment in message


@pytest.mark.parametrize("correlation", ["ar1", "unstructured"])
def test_ordered_structures_need_time(data, correlation):
    with pytest.raises(ValueError, match="needs the visit column: give time="):
        gee(data, FORMULA, subject="id", correlation=correlation)


def test_missing_columns_are_named(data):
    with pytest.raises(DataValidationError, match="subject column 'subject'.*time column 'week'"):
        gee(data, FORMULA, subject="subject", time="week")


def test_missing_cluster_labels_are_located(data):
    bad = data.copy()
    bad.loc[[3, 7], "id"] = None
    with pytest.raises(DataValidationError, match=r"subject column 'id' has 2 missing.*\[3, 7\]"):
        gee(bad, FORMULA, subject="id")


def test_text_visits_in_alphabetical_but_not_visit_order_are_refused():
    d = trial(visits=("W2", "W4", "W12"))
    with pytest.raises(DataValidationError, match="Categorical with the visits in order"):
        gee(d, FORMULA, subject="id", time="visit", correlation="ar1")
    d["visit"] = pd.Categorical(d["visit"], categories=["W2", "W4", "W12"])
    fit = gee(d, FORMULA, subject="id", time="visit", correlation="ar1")
    assert list(fit.working_correlation.columns) == ["W2", "W4", "W12"]
    # exchangeable does not depend on the order: no need to refuse
    gee(trial(visits=("W2", "W4", "W12")), FORMULA, subject="id", time="visit")


def test_binomial_outcome_must_be_binary(data):
    bad = data.assign(remission=data["remission"].astype(float))
    bad.loc[5, "remission"] = 2.0
    with pytest.raises(DataValidationError, match=r"must be 0 or 1.*values \[2.0\]"):
        gee(bad, FORMULA, subject="id")


def test_poisson_outcome_must_be_non_negative(data):
    bad = data.assign(count=data["remission"] - 1)
    with pytest.raises(DataValidationError, match="non-negative counts"):
        gee(bad, "count ~ arm", subject="id", family="poisson")


def test_duplicated_visits_are_refused(data):
    bad = pd.concat([data, data.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataValidationError, match="at most one row per visit"):
        gee(bad, FORMULA, subject="id", time="visit")


def test_one_cluster_is_not_enough(data):
    with pytest.raises(DataValidationError, match="at least two clusters"):
        gee(data[data["id"] == "P00"], "remission ~ visit", subject="id")


def test_df_clusters_needs_more_clusters_than_coefficients():
    d = trial(n=4)
    with pytest.raises(DataValidationError, match="more clusters"):
        gee(d, "remission ~ arm * visit", subject="id", time="visit", df="clusters")


def test_rank_deficient_design_is_refused(data):
    with pytest.raises(DataValidationError, match="rank deficient"):
        gee(data.assign(age2=2 * data["age"]), "remission ~ age + age2", subject="id")


def test_unstructured_needs_every_pair_of_visits():
    d = trial()
    # W2 and W8 never observed in the same participant
    drop = np.where(np.arange(len(d)) // 3 % 2 == 0, "W8", "W2")
    d = d[d["visit"] != drop].reset_index(drop=True)
    with pytest.raises(DataValidationError, match=r"pairs \['W2:W8'\] of 'visit' never are"):
        gee(d, FORMULA, subject="id", time="visit", correlation="unstructured")


def test_separation_is_explained():
    d = trial(n=30, seed=1)
    d.loc[(d["arm"] == "exercise") & (d["visit"] == "W8"), "remission"] = 1
    with pytest.raises(ConvergenceError, match="everyone .or no one. responded"):
        gee(d, "remission ~ arm * visit", subject="id", time="visit")


def test_a_cluster_alone_determining_a_coefficient_is_refused(data):
    d = data.assign(site=np.where(data["id"] == "P00", "lonely", "main"))
    for vcov in ("robust", "mancl-derouen", "kauermann-carroll"):
        with pytest.raises(DataValidationError, match=r"\['P00'\]\) alone determine"):
            gee(d, "remission ~ arm + site", subject="id", vcov=vcov)
    fit = gee(d, "remission ~ arm + site", subject="id", vcov="model")
    sandwiches = fit.standard_errors[["robust", "mancl_derouen", "kauermann_carroll"]]
    assert sandwiches.isna().all(axis=None)


def _pairs_only(extra_participant: bool) -> pd.DataFrame:
    """Each pair of visits seen in different participants, with correlations exactly
    +0.6 (V1:V2), +0.6 (V2:V3) and -0.6 (V1:V3): together not a correlation matrix."""
    rows, i = [], 0
    for pair, sign in [(("V1", "V2"), 1), (("V2", "V3"), 1), (("V1", "V3"), -1)]:
        for a, b in itertools.product((-1.0, 1.0), repeat=2):
            rows += [(i, pair[0], a), (i, pair[1], sign * (0.6 * a + 0.8 * b))]
            i += 1
    if extra_participant:
        rows += [(99, "V1", 0.1), (99, "V2", 0.2), (99, "V3", -0.1)]
    return pd.DataFrame(rows, columns=["id", "visit", "y"])


def test_indefinite_working_correlation_over_unobserved_visit_sets_warns():
    with pytest.warns(ConvergenceWarning, match="not positive definite"):
        fit = gee(
            _pairs_only(False),
            "y ~ 1",
            subject="id",
            time="visit",
            family="gaussian",
            correlation="unstructured",
        )
    np.testing.assert_allclose(fit.correlation_parameters["estimate"], [0.6, -0.6, 0.6])
    assert np.linalg.eigvalsh(fit.working_correlation.to_numpy()).min() < 0


def test_indefinite_working_correlation_of_a_participant_is_refused():
    with pytest.raises(ConvergenceError, match=r"over the visits \['V1', 'V2', 'V3'\]"):
        gee(
            _pairs_only(True),
            "y ~ 1",
            subject="id",
            time="visit",
            family="gaussian",
            correlation="unstructured",
        )


# ------------------------------------------------------------ properties
def test_row_order_does_not_matter(data):
    fit = gee(data, FORMULA, subject="id", time="visit", correlation="ar1")
    shuffled = data.sample(frac=1.0, random_state=3)
    again = gee(shuffled, FORMULA, subject="id", time="visit", correlation="ar1")
    pd.testing.assert_frame_equal(fit.coef, again.coef, rtol=1e-10)
    pd.testing.assert_frame_equal(fit.working_correlation, again.working_correlation, rtol=1e-10)


def test_exchangeable_ignores_the_visit_order(data):
    """Without ``time`` rows are taken as they come; exchangeable does not care."""
    with_time = gee(data, FORMULA, subject="id", time="visit")
    shuffled = data.sample(frac=1.0, random_state=5)
    without = gee(shuffled, FORMULA, subject="id")
    pd.testing.assert_frame_equal(with_time.coef, without.coef, rtol=1e-10)
    assert list(without.working_correlation.columns) == [1, 2, 3]


def test_missing_outcomes_are_dropped_and_counted(data):
    d = data.assign(remission=data["remission"].astype(float))
    d.loc[[0, 4, 10], "remission"] = np.nan
    d.loc[[20], "age"] = np.nan
    fit = gee(d, "remission ~ arm + age", subject="id", time="visit")
    assert (fit.n_obs, fit.n_missing_outcome, fit.n_missing_covariates) == (116, 3, 1)
    complete = gee(d.dropna(), "remission ~ arm + age", subject="id", time="visit")
    pd.testing.assert_frame_equal(fit.coef, complete.coef, rtol=1e-12)


def test_boolean_and_nullable_outcomes(data):
    fit = gee(data, FORMULA, subject="id")
    as_bool = gee(data.assign(remission=data["remission"].astype(bool)), FORMULA, subject="id")
    nullable = gee(data.assign(remission=data["remission"].astype("Int64")), FORMULA, subject="id")
    pd.testing.assert_frame_equal(fit.coef, as_bool.coef)
    pd.testing.assert_frame_equal(fit.coef, nullable.coef)


def test_reference_distribution_and_intervals(data):
    normal = gee(data, FORMULA, subject="id", vcov="mancl-derouen")
    clusters = gee(data, FORMULA, subject="id", vcov="mancl-derouen", df="clusters")
    fixed = gee(data, FORMULA, subject="id", vcov="mancl-derouen", df=12.5, conf_level=0.9)
    assert np.isinf(normal.coef["df"]).all() and normal.df_method == "normal"
    assert (clusters.coef["df"] == 40 - 4).all() and clusters.df_method == "clusters"
    assert (fixed.coef["df"] == 12.5).all() and fixed.df_method == "fixed"
    row = clusters.coef.iloc[1]
    half = stats.t.ppf(0.975, 36) * row["se"]
    np.testing.assert_allclose(
        [row["ci_low"], row["ci_high"]], [row["estimate"] - half, row["estimate"] + half]
    )
    np.testing.assert_allclose(row["p_value"], 2 * stats.t.sf(abs(row["statistic"]), 36))
    np.testing.assert_allclose(
        fixed.coef["ci_high"] - fixed.coef["estimate"], stats.t.ppf(0.95, 12.5) * fixed.coef["se"]
    )
    np.testing.assert_allclose(clusters.coef["odds_ratio"], np.exp(clusters.coef["estimate"]))
    np.testing.assert_allclose(clusters.coef["or_ci_low"], np.exp(clusters.coef["ci_low"]))
    # the estimates do not depend on the covariance or the reference distribution
    np.testing.assert_array_equal(normal.coef["estimate"], fixed.coef["estimate"])


def test_vcov_choice_selects_a_column_of_standard_errors(data):
    for vcov in ("robust", "mancl-derouen", "kauermann-carroll", "model"):
        fit = gee(data, FORMULA, subject="id", time="visit", vcov=vcov)
        column = vcov.replace("-", "_")
        np.testing.assert_allclose(fit.coef["se"], fit.standard_errors[column], rtol=1e-12)
        np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov)), fit.coef["se"], rtol=1e-12)
        assert fit.vcov_type == vcov


def test_small_sample_corrections_inflate_the_robust_errors(data):
    """With 40 clusters the leverages are small but positive: MD > KC > robust."""
    errors = gee(data, FORMULA, subject="id", time="visit").standard_errors
    assert (errors["mancl_derouen"] > errors["kauermann_carroll"]).all()
    assert (errors["kauermann_carroll"] > errors["robust"]).all()


def test_result_is_immutable(data):
    fit = gee(data, FORMULA, subject="id")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.scale = 2.0


def test_test_and_predict(data):
    fit = gee(data, FORMULA, subject="id", time="visit")
    table = fit.test(np.eye(4)[1], labels=["exercise vs control"])
    assert table["label"].tolist() == ["exercise vs control"]
    np.testing.assert_allclose(table["estimate"], fit.coef["estimate"].iloc[1])
    np.testing.assert_allclose(table["se"], fit.coef["se"].iloc[1])
    with pytest.raises(ValueError, match="4 columns"):
        fit.test([1, 0])
    fitted = fit.predict()
    assert fitted.between(0, 1).all() and len(fitted) == fit.n_obs
    new = pd.DataFrame({"arm": ["exercise", "control"], "visit": ["W8", None]})
    predicted = fit.predict(new)
    beta = fit.coef.set_index("term")["estimate"]
    expected = 1 / (
        1 + np.exp(-(beta["Intercept"] + beta["arm[T.exercise]"] + beta["visit[T.W8]"]))
    )
    np.testing.assert_allclose(predicted.iloc[0], expected)
    assert np.isnan(predicted.iloc[1])


def test_probabilities_and_differences_agree(data):
    fit = gee(data, "remission ~ arm * visit", subject="id", time="visit")
    probabilities = fit.predicted_probabilities("arm", by="visit")
    assert probabilities.columns.tolist() == [
        "visit",
        "arm",
        "probability",
        "se",
        "ci_low",
        "ci_high",
    ]
    # a cell-means model reproduces the observed proportions
    observed = data.groupby(["visit", "arm"])["remission"].mean().to_numpy()
    np.testing.assert_allclose(probabilities["probability"], observed, rtol=1e-8)
    assert ((probabilities["ci_low"] > 0) & (probabilities["ci_high"] < 1)).all()
    differences = fit.probability_differences("arm", by="visit")
    wide = probabilities.pivot(index="visit", columns="arm", values="probability")
    np.testing.assert_allclose(
        differences["estimate"], (wide["exercise"] - wide["control"]).to_numpy()
    )
    odds = fit.contrast("arm", by="visit", method="trt_vs_ctrl", reference="control")
    assert odds["contrast"].unique().tolist() == ["exercise - control"]
    assert {"odds_ratio", "or_ci_low", "or_ci_high"} <= set(odds.columns)


def test_other_families(data):
    d = data.assign(sessions=np.arange(len(data)) % 5, madrs=np.arange(len(data)) % 7 * 1.5)
    poisson = gee(d, "sessions ~ arm", subject="id", family="poisson")
    assert {"rate_ratio", "rr_ci_low", "rr_ci_high"} <= set(poisson.coef.columns)
    means = poisson.marginal_means("arm")
    observed = d.groupby("arm")["sessions"].mean().to_numpy()
    np.testing.assert_allclose(means["mean"], observed, rtol=1e-8)
    gaussian = gee(d, "madrs ~ arm", subject="id", family="gaussian")
    assert "odds_ratio" not in gaussian.coef.columns
    with pytest.raises(ValueError, match="use marginal_means"):
        gaussian.predicted_probabilities("arm")


def test_summary_mentions_the_choices(data):
    text = gee(
        data,
        FORMULA,
        subject="id",
        time="visit",
        correlation="ar1",
        vcov="kauermann-carroll",
        df="clusters",
    ).summary()
    assert "working correlation 'ar1'" in text
    assert "kauermann-carroll" in text and "t with 36 df" in text


def test_numeric_visit_times_order_like_a_categorical(data):
    """Weeks as numbers: visits ordered numerically, AR(1) over visit positions."""
    weeks = data.assign(week=data["visit"].map({"W2": 2, "W4": 4, "W8": 8}))
    by_week = gee(weeks, FORMULA, subject="id", time="week", correlation="ar1")
    by_visit = gee(weeks, FORMULA, subject="id", time="visit", correlation="ar1")
    pd.testing.assert_frame_equal(by_week.coef, by_visit.coef, rtol=1e-10)
    assert list(by_week.working_correlation.columns) == [2, 4, 8]
