"""The public entry point: inputs, outputs, failure handling."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ketex.errors import ConvergenceError, DataValidationError
from ketex.models import MMRMControl, mmrm
from tests.models.conftest import simulate_trial

FORMULA = "change ~ C(arm, Treatment('PBO')) * visit + baseline"


@pytest.fixture(scope="module")
def data():
    return simulate_trial(n_subjects=120, n_visits=4, seed=11)


@pytest.fixture(scope="module")
def fit(data):
    return mmrm(data, FORMULA, subject="subject", visit="visit")


def test_result_is_immutable(fit):
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.loglik = 0.0
    with pytest.raises(ValueError):
        fit.theta[0] = 1.0


def test_counts_and_missing_outcomes(data, fit):
    assert fit.n_missing_outcome == int(data["change"].isna().sum())
    assert fit.n_obs == int(data["change"].notna().sum())
    assert fit.n_subjects == data.loc[data["change"].notna(), "subject"].nunique()
    assert fit.n_missing_covariates == 0


def test_missing_covariate_rows_are_counted_apart(data):
    broken = data.copy()
    broken.loc[broken.index[:3], "baseline"] = np.nan
    expected = int(broken["change"].iloc[:3].notna().sum())
    other = mmrm(broken, FORMULA, subject="subject", visit="visit")
    assert other.n_missing_covariates == expected


def test_coef_table_columns_and_confidence_intervals(fit):
    assert list(fit.coef.columns) == [
        "term",
        "estimate",
        "se",
        "df",
        "statistic",
        "p_value",
        "ci_low",
        "ci_high",
    ]
    from scipy import stats

    row = fit.coef.iloc[1]
    half = stats.t.ppf(0.975, row.df) * row.se
    assert row.ci_high - row.estimate == pytest.approx(half)
    assert row.statistic == pytest.approx(row.estimate / row.se)
    assert fit.vcov.shape == (len(fit.coef), len(fit.coef))
    assert np.sqrt(np.diag(fit.vcov)) == pytest.approx(fit.coef["se"].to_numpy())


def test_information_criteria_follow_sas_definitions(fit):
    p = len(fit.theta)
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * p)
    assert fit.bic == pytest.approx(-2 * fit.loglik + p * np.log(fit.n_subjects))


def test_row_order_does_not_matter(data, fit):
    shuffled = data.sample(frac=1.0, random_state=3)
    other = mmrm(shuffled, FORMULA, subject="subject", visit="visit")
    np.testing.assert_allclose(other.coef["estimate"], fit.coef["estimate"], rtol=1e-7)
    assert other.loglik == pytest.approx(fit.loglik, rel=1e-10)


def test_errors_name_the_column_and_what_to_do(data):
    with pytest.raises(DataValidationError, match="subject column 'patient' is not in the data"):
        mmrm(data, FORMULA, subject="patient", visit="visit")
    duplicated = pd.concat([data, data.iloc[:2]])
    with pytest.raises(DataValidationError, match="at most one row per visit.*S000"):
        mmrm(duplicated, FORMULA, subject="subject", visit="visit")
    with pytest.raises(ValueError, match="covariance must be one of"):
        mmrm(data, FORMULA, subject="subject", visit="visit", covariance="UN")
    with pytest.raises(ValueError, match="Kenward-Roger degrees of freedom need method='reml'"):
        mmrm(data, FORMULA, subject="subject", visit="visit", method="ml", df="kenward_roger")
    bad_weights = data.assign(weight=-1.0)
    with pytest.raises(DataValidationError, match="weights column 'weight' must be positive"):
        mmrm(bad_weights, FORMULA, subject="subject", visit="visit", weights="weight")
    with pytest.raises(ValueError, match="sp_exp' needs a numeric visit column"):
        mmrm(data, FORMULA, subject="subject", visit="visit", covariance="sp_exp")


def test_rank_deficient_design_is_explained(data):
    empty_cell = data[~((data["arm"] == "KET") & (data["visit"] == "W4"))].copy()
    empty_cell.loc[(empty_cell["visit"] == "W4"), "change"] = empty_cell["change"]
    with pytest.raises(DataValidationError, match="rank deficient"):
        mmrm(empty_cell, FORMULA, subject="subject", visit="visit")


def test_group_must_be_constant_within_subject(data):
    varying = data.assign(site=np.where(np.arange(len(data)) % 2 == 0, "A", "B"))
    with pytest.raises(DataValidationError, match="group column 'site' must be constant"):
        mmrm(varying, FORMULA, subject="subject", visit="visit", covariance_group="site")


def test_grouped_covariance_gives_one_matrix_per_level(data):
    grouped = mmrm(data, FORMULA, subject="subject", visit="visit", covariance_group="arm",
                   covariance="ar1h")
    assert set(grouped.covariance_matrix) == {"KET", "PBO"}
    assert len(grouped.theta) == 2 * 5


def _never_together(data):
    """W1 and W4 are never observed in the same subject: UN's cov(W1, W4) is not
    identifiable, while structured matrices still are."""
    wide_w1 = data.loc[data["visit"] == "W1"].set_index("subject")["change"].notna()
    drop = data["subject"].map(wide_w1) & (data["visit"] == "W4")
    return data.assign(change=data["change"].mask(drop))


def test_no_convergence_raises_with_what_to_try(data):
    impossible = MMRMControl(tolerance=1e-300)
    with pytest.raises(ConvergenceError, match="What was tried.*What to try"):
        mmrm(data, FORMULA, subject="subject", visit="visit", control=impossible)


def test_fallback_sequence_records_the_structure_used(data):
    control = MMRMControl(warn_on_fallback=False)
    fit_seq = mmrm(
        _never_together(data),
        FORMULA,
        subject="subject",
        visit="visit",
        covariance=("us", "ar1h", "cs"),
        control=control,
    )
    assert fit_seq.covariance == "ar1h"
    assert any(m.startswith("[us]") for m in fit_seq.messages)
    assert fit_seq.converged


def test_fallback_warns_when_requested(data):
    from ketex.errors import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="converged only with covariance 'ar1h'"):
        mmrm(
            _never_together(data),
            FORMULA,
            subject="subject",
            visit="visit",
            covariance=("us", "ar1h"),
        )


def test_predict_and_residuals(data, fit):
    fitted = fit.predict()
    residuals = fit.residuals()
    used = data.loc[fitted.index]
    np.testing.assert_allclose(fitted + residuals, used["change"])
    newdata = data.iloc[:8].assign(change=np.nan)
    np.testing.assert_allclose(
        fit.predict(newdata),
        fitted.reindex(newdata.index).fillna(
            pd.Series(fit.predict(newdata).to_numpy(), index=newdata.index)
        ),
    )
    normalized = fit.residuals("normalized")
    pearson = fit.residuals("pearson")
    # under the model both have unit variance; 400 observations: sd within ~10%
    assert np.std(normalized) == pytest.approx(1.0, abs=0.1)
    assert np.std(pearson) == pytest.approx(1.0, abs=0.1)
    with pytest.raises(ValueError, match="type must be"):
        fit.residuals("studentized")


def test_lsmeans_weights_and_contrasts(fit, data):
    equal = fit.lsmeans("arm", by="visit")
    assert list(equal.columns[:2]) == ["visit", "arm"]
    prop = fit.lsmeans("visit", weights="proportional")
    assert len(prop) == 4
    diffs = fit.contrast("arm", by="visit", method="trt_vs_ctrl", reference="PBO")
    assert set(diffs["contrast"]) == {"KET - PBO"}
    lsm = equal.set_index(["visit", "arm"])["estimate"]
    first = diffs.iloc[0]
    assert first.estimate == pytest.approx(lsm[(first.visit, "KET")] - lsm[(first.visit, "PBO")])
    pairwise = fit.contrast("arm", method="pairwise")
    assert pairwise["contrast"].tolist() == ["PBO - KET"] or pairwise["contrast"].tolist() == [
        "KET - PBO"
    ]
    with pytest.raises(ValueError, match="LS-means need factors of the model"):
        fit.lsmeans("baseline")


def test_general_linear_test_matches_coef(fit):
    k = len(fit.coef)
    table = fit.test(np.eye(k)[1], labels=["arm"])
    assert table["estimate"].iloc[0] == pytest.approx(fit.coef["estimate"].iloc[1])
    assert table["df"].iloc[0] == pytest.approx(fit.coef["df"].iloc[1])


def test_all_df_methods_and_empirical_vcov(data):
    base = mmrm(data, FORMULA, subject="subject", visit="visit")
    n_obs, k = base.n_obs, len(base.coef)
    residual = mmrm(data, FORMULA, subject="subject", visit="visit", df="residual")
    assert np.all(residual.coef["df"] == n_obs - k)
    bw = mmrm(data, FORMULA, subject="subject", visit="visit", df="between_within")
    # arm and baseline are between-subject; intercept and visit terms within
    n_between = 2
    assert bw.coef.set_index("term").loc["baseline", "df"] == base.n_subjects - n_between - 1
    emp = mmrm(
        data,
        FORMULA,
        subject="subject",
        visit="visit",
        df="residual",
        control=MMRMControl(vcov="empirical"),
    )
    assert np.allclose(emp.coef["estimate"], base.coef["estimate"])
    assert not np.allclose(emp.coef["se"], base.coef["se"])
    with pytest.raises(ValueError, match="empirical"):
        mmrm(data, FORMULA, subject="subject", visit="visit", control=MMRMControl(vcov="empirical"))


def test_control_validation():
    with pytest.raises(ValueError, match="optimisers must be among"):
        MMRMControl(optimisers=("adam",))
    with pytest.raises(ValueError, match="conf_level"):
        MMRMControl(conf_level=95)


def test_grouped_fit_equals_separate_fits_when_mean_model_is_separate(data):
    """With arm-specific fixed effects and arm-specific covariance matrices the REML
    likelihood factorises over arms: the grouped fit is the two separate fits."""
    formula = "change ~ 0 + arm + arm:visit + arm:baseline"
    grouped = mmrm(data, formula, subject="subject", visit="visit", covariance_group="arm")
    total = 0.0
    for arm in ("KET", "PBO"):
        alone = mmrm(
            data[data["arm"] == arm], "change ~ visit + baseline", subject="subject", visit="visit"
        )
        total += alone.loglik
        # optimisers stop within ~1e-6 relative of the same optimum
        np.testing.assert_allclose(
            grouped.covariance_matrix[arm].to_numpy(), alone.covariance_matrix.to_numpy(), rtol=1e-5
        )
    assert grouped.loglik == pytest.approx(total, abs=1e-6)
