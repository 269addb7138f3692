"""ketex.lmm: the deviance and its derivatives, boundary fits, input checks, predictions,
and recovery of known effects. Comparisons with lmerTest are in test_lmm_r_reference.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from ketex.errors import ConvergenceWarning, DataValidationError
from ketex.models._design import GroupedFrame, build_model_frame
from ketex.models._lmm_likelihood import LMMDeviance, lambda_matrix
from ketex.models.lmm import LMMControl, lmm


def simulate(n: int, seed: int, slope_sd: float = 0.5, visits=(0.0, 1, 2, 4, 6, 8)):
    """Truth: y = 20 - 2 KET + (-1.0 - 0.4 KET) t + b0 + b1 t + e, SD(b0) = 4,
    SD(b1) = slope_sd, cor(b0, b1) = -0.3 (0 when slope_sd is 0), SD(e) = 2."""
    rng = np.random.default_rng(seed)
    visits = np.asarray(visits)
    arm = rng.permutation(np.repeat(["PBO", "KET"], n // 2))
    covariance = np.array([[16.0, -0.3 * 4 * slope_sd], [-0.3 * 4 * slope_sd, slope_sd**2]])
    effects = rng.multivariate_normal([0.0, 0.0], covariance, n)
    ket = (arm == "KET").astype(float)
    t = np.tile(visits, n)
    y = (20 - 2 * np.repeat(ket, visits.size) + (-1.0 - 0.4 * np.repeat(ket, visits.size)) * t
         + np.repeat(effects[:, 0], visits.size) + np.repeat(effects[:, 1], visits.size) * t
         + rng.normal(0, 2, t.size))
    return pd.DataFrame({"id": np.repeat([f"S{i:03d}" for i in range(n)], visits.size),
                         "arm": pd.Categorical(np.repeat(arm, visits.size), ["PBO", "KET"]),
                         "time": t, "y": y})


FORMULA = "y ~ arm * time"
TRUTH = {"Intercept": 20.0, "arm[T.KET]": -2.0, "time": -1.0, "arm[T.KET]:time": -0.4}


@pytest.fixture(scope="module")
def data():
    return simulate(60, seed=8)


@pytest.mark.parametrize("reml", [True, False])
def test_analytic_derivatives_match_finite_differences(data, reml):
    frame = build_model_frame(data, FORMULA, model="LMM", subject="id",
                              re_formula="1 + time + I(time**2)", kind=GroupedFrame)
    deviance = LMMDeviance(frame.x, frame.y - frame.y.mean(), frame.z, frame.starts, reml)
    theta = np.array([1.2, -0.1, 0.05, 0.3, -0.02, 0.04])
    ev = deviance.evaluate(theta, gradient=True)
    h = 1e-6
    for k, e in enumerate(np.eye(theta.size) * h):
        up, down = deviance.evaluate(theta + e), deviance.evaluate(theta - e)
        assert ev.gradient[k] == pytest.approx((up.deviance - down.deviance) / (2 * h),
                                               rel=1e-6, abs=1e-5)
        np.testing.assert_allclose(ev.parts[3][k], (up.xtvx - down.xtvx) / (2 * h),
                                   rtol=1e-5, atol=1e-6 * np.abs(ev.xtvx).max())


def test_deviance_is_the_gaussian_likelihood(data):
    """ML deviance at any theta equals -2 log L of y ~ N(X beta_hat, sigma^2 (Z Lambda
    Lambda' Z' + I)) at the profiled beta and sigma, computed densely."""
    frame = build_model_frame(data, FORMULA, model="LMM", subject="id", re_formula="1 + time",
                              kind=GroupedFrame)
    deviance = LMMDeviance(frame.x, frame.y, frame.z, frame.starts, reml=False)
    theta = np.array([1.5, -0.2, 0.4])
    ev = deviance.evaluate(theta)
    lam = lambda_matrix(theta, 2)
    sigma2 = ev.pwrss / frame.x.shape[0]
    minus_two = 0.0
    for start, size in zip(frame.starts, frame.group_sizes, strict=True):
        rows = slice(start, start + size)
        z = frame.z[rows]
        v = sigma2 * (z @ lam @ lam.T @ z.T + np.eye(size))
        resid = frame.y[rows] - frame.x[rows] @ ev.beta
        minus_two += (size * np.log(2 * np.pi) + np.linalg.slogdet(v)[1]
                      + resid @ np.linalg.solve(v, resid))
    assert ev.deviance == pytest.approx(minus_two, rel=1e-12)


def test_same_as_statsmodels_mixedlm(data):
    """statsmodels MixedLM (REML) maximises the same likelihood: estimates and variance
    components agree to 1e-4 relative (its SEs use normal, not t, reference)."""
    fit = lmm(data, FORMULA, subject="id", re_formula="1 + time")
    reference = smf.mixedlm(FORMULA, data, groups=data["id"], re_formula="~time").fit(
        reml=True, method=["lbfgs"])
    np.testing.assert_allclose(fit.coef["estimate"], reference.fe_params, rtol=1e-4)
    np.testing.assert_allclose(fit.coef["se"], reference.bse_fe, rtol=1e-3)
    np.testing.assert_allclose(fit.random_effects_covariance, reference.cov_re, rtol=1e-3)
    assert fit.residual_sd**2 == pytest.approx(reference.scale, rel=1e-4)


def test_result_shape(data):
    fit = lmm(data, FORMULA, subject="id")
    assert list(fit.coef.columns) == ["term", "estimate", "se", "df", "statistic", "p_value",
                                      "ci_low", "ci_high"]
    assert fit.n_subjects == 60 and fit.n_obs == 360 and fit.method == "reml"
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * (4 + 3 + 1))
    lsmeans = fit.lsmeans("arm")
    assert lsmeans["arm"].tolist() == ["PBO", "KET"]
    contrast = fit.contrast("arm")
    assert contrast["contrast"].tolist() == ["KET - PBO"]
    blups = fit.random_effects
    assert len(blups) == 120 and set(blups["term"]) == {"Intercept", "time"}
    assert blups.groupby("term")["estimate"].mean().abs().max() < 0.5
    assert "Linear mixed model (REML" in fit.summary()


def test_predictions(data):
    fit = lmm(data, FORMULA, subject="id")
    conditional = fit.predict()
    assert np.sqrt(np.mean(fit.residuals() ** 2)) < np.sqrt(np.mean(
        fit.residuals(kind="population") ** 2))
    new = pd.DataFrame({"id": ["S000", "NEW"], "arm": ["PBO", "PBO"], "time": [4.0, 4.0]})
    population = fit.predict(new, kind="population")
    assert population.iloc[0] == pytest.approx(population.iloc[1])
    own = fit.predict(new)
    assert own.iloc[1] == pytest.approx(population.iloc[1])  # a new group: BLUP 0
    blup = fit.random_effects.set_index(["group", "term"])["estimate"]
    assert own.iloc[0] == pytest.approx(population.iloc[0] + blup[("S000", "Intercept")]
                                        + 4.0 * blup[("S000", "time")])
    first = fit._frame.data.index[0]
    assert conditional.loc[first] == pytest.approx(
        fit.predict(data.loc[[first]]).iloc[0])


def test_boundary_fit_warns_and_uses_free_parameters():
    """No slope variance in the truth and three visits: the random-effects covariance
    is estimated singular (an SD of 0 or a correlation of -1 or 1); the fit warns and
    the Satterthwaite df use the remaining parameters."""
    frame = simulate(40, seed=3, slope_sd=0.0, visits=(0.0, 1.0, 2.0))
    with pytest.warns(ConvergenceWarning, match="singular"):
        fit = lmm(frame, FORMULA, subject="id")
    assert fit.singular
    components = fit.variance_components.set_index("term")["estimate"]
    assert components["sd__time"] < 1e-3 or abs(components["cor__Intercept.time"]) > 1 - 1e-6
    assert np.isfinite(fit.coef["df"]).all() and fit.varpar_vcov.shape == (3, 3)


def test_input_problems(data):
    with pytest.raises(ValueError, match="method must be 'reml' or 'ml'"):
        lmm(data, FORMULA, subject="id", method="REML")
    with pytest.raises(ValueError, match="df must be one of"):
        lmm(data, FORMULA, subject="id", df="kenward_roger")
    with pytest.raises(ValueError, match="right side"):
        lmm(data, FORMULA, subject="id", re_formula="~ time")
    with pytest.raises(DataValidationError, match="subject column 'site'"):
        lmm(data, FORMULA, subject="site")
    with pytest.raises(ValueError, match="control.start needs 3 values"):
        lmm(data, FORMULA, subject="id", control=LMMControl(start=(1.0,)))
    with pytest.raises(ValueError, match="names 'time', which is not a column.*Pass re_formula="):
        lmm(data.rename(columns={"time": "week"}), "y ~ arm * week", subject="id")
    with pytest.raises(ValueError, match="no random effect"):
        lmm(data, FORMULA, subject="id", re_formula="0")


def test_missing_rows_are_dropped_and_counted(data):
    holes = data.copy()
    holes.loc[[0, 5], "y"] = np.nan
    holes.loc[[7], "time"] = np.nan
    fit = lmm(holes, FORMULA, subject="id")
    assert fit.n_obs == 357 and fit.n_missing_outcome == 2 and fit.n_missing_covariates == 1


def test_recovers_known_effects():
    """300 participants x 6 visits: fixed effects within 4 SE of the truth (fails with
    probability 6e-5 per effect for an unbiased normal estimator), SDs within 10 % and
    the correlation within 0.15 of the truth (their sampling SDs here are ~3 %, ~5 %
    and ~0.06); the between-participant arm effect gets df near the number of
    participants (Satterthwaite), not the number of observations."""
    fit = lmm(simulate(300, seed=21), FORMULA, subject="id")
    coef = fit.coef.set_index("term")
    assert ((coef["estimate"] - pd.Series(TRUTH)).abs() / coef["se"]).max() < 4
    components = fit.variance_components.set_index("term")["estimate"]
    assert components["sd__Intercept"] == pytest.approx(4.0, rel=0.1)
    assert components["sd__time"] == pytest.approx(0.5, rel=0.1)
    assert components["sd__Observation"] == pytest.approx(2.0, rel=0.1)
    assert components["cor__Intercept.time"] == pytest.approx(-0.3, abs=0.15)
    assert 250 < coef.loc["arm[T.KET]", "df"] < 330
