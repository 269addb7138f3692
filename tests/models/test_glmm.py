"""ketex.glmm: the likelihood and its gradient, quadrature, input checks, boundary fits,
predictions. Reference comparisons with R are in test_glmm_r_reference.py."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import integrate, special

from ketex.errors import ConvergenceError, ConvergenceWarning, DataValidationError
from ketex.models._binomial import LINKS, get_link
from ketex.models._glmm_likelihood import GLMMLikelihood
from ketex.models.glmm import GLMMControl, glmm
from ketex.models.quadrature import adaptive_log_integral, gauss_hermite


def _problem(link_name: str, seed: int = 1, groups: int = 25, per: int = 5):
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(groups), per)
    x = np.c_[np.ones(codes.size), rng.normal(size=codes.size), np.tile(np.arange(per), groups)]
    link = get_link(link_name)
    eta = x @ np.array([-0.5, 0.8, 0.2]) + rng.normal(0, 1.3, groups)[codes]
    y = (rng.random(codes.size) < link.inverse(eta)).astype(float)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return x, y, codes, starts, link


@pytest.mark.parametrize("link_name", LINKS)
def test_loglik_derivatives_match_finite_differences(link_name):
    link = get_link(link_name)
    eta = np.linspace(-6, 4, 41)
    h = 1e-5
    for y in (0.0, 1.0):
        values = link.loglik(y, eta, order=3)
        for k in range(3):
            numeric = (link.loglik(y, eta + h, 3)[k] - link.loglik(y, eta - h, 3)[k]) / (2 * h)
            np.testing.assert_allclose(values[k + 1], numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("link_name", LINKS)
@pytest.mark.parametrize("nagq", [1, 4, 11])
def test_gradient_is_the_derivative_of_the_approximation(link_name, nagq):
    """The analytic gradient follows the moving nodes: central differences of the
    deviance agree to 1e-6 (their own error is ~1e-8 here)."""
    x, y, codes, starts, link = _problem(link_name)
    lik = GLMMLikelihood(x, y, np.zeros_like(y), codes, starts, link, nagq)
    theta = np.array([-0.4, 0.7, 0.1, np.log(1.1)])
    _, gradient = lik.evaluate(theta)
    h = 1e-6
    numeric = [(lik.deviance(theta + h * e) - lik.deviance(theta - h * e)) / (2 * h)
               for e in np.eye(theta.size)]
    np.testing.assert_allclose(gradient, numeric, atol=1e-6)


@pytest.mark.parametrize("link_name", LINKS)
def test_25_nodes_give_the_exact_integral(link_name):
    """Adaptive quadrature with 25 nodes equals scipy.integrate.quad (to 1e-7 in the
    deviance); the Laplace approximation is visibly off (more than 0.1 here)."""
    x, y, codes, starts, link = _problem(link_name, groups=12)
    theta = np.array([-0.4, 0.7, 0.1, np.log(1.5)])
    sigma = np.exp(theta[-1])
    eta = x @ theta[:-1]
    exact = 0.0
    for group in range(12):
        rows = codes == group

        def integrand(u, rows=rows):
            total = np.sum(link.loglik(y[rows], eta[rows] + sigma * u)[0])
            return np.exp(total - 0.5 * u * u) / np.sqrt(2 * np.pi)

        exact += np.log(integrate.quad(integrand, -12, 12, epsabs=0, epsrel=1e-13,
                                       limit=200)[0])
    deviances = {n: GLMMLikelihood(x, y, np.zeros_like(y), codes, starts, link, n).deviance(theta)
                 for n in (1, 25)}
    assert deviances[25] == pytest.approx(-2 * exact, abs=1e-7)
    assert abs(deviances[1] - (-2 * exact)) > 0.1


def test_gauss_hermite_rule():
    z, w = gauss_hermite(10)
    assert w.sum() == pytest.approx(1.0)
    for power, moment in [(2, 1.0), (4, 3.0), (6, 15.0), (8, 105.0)]:
        assert w @ z**power == pytest.approx(moment)
    assert not z.flags.writeable
    with pytest.raises(ValueError, match="positive integer"):
        gauss_hermite(0)
    # adaptive: a normal kernel with any centre and scale is exact with one node
    log_f = lambda u: -0.5 * ((u + 3.0) / 0.4) ** 2  # noqa: E731
    assert adaptive_log_integral(log_f, -3.0, 0.4, 1) == pytest.approx(
        np.log(0.4 * np.sqrt(2 * np.pi)))


# ----------------------------------------------------------------- fitting
@pytest.fixture(scope="module")
def trial():
    rng = np.random.default_rng(5)
    n, visits = 80, 4
    d = pd.DataFrame({
        "id": np.repeat([f"P{i:02d}" for i in range(n)], visits),
        "arm": np.repeat(rng.permutation(np.repeat(["PBO", "KET"], n // 2)), visits),
        "visit": np.tile(["W1", "W2", "W3", "W4"], n),
        "week": np.tile([1.0, 2.0, 3.0, 4.0], n),
    })
    eta = -0.8 + 1.0 * (d["arm"] == "KET") + 0.2 * d["week"] + np.repeat(
        rng.normal(0, 1.2, n), visits)
    response = pd.array(rng.random(len(d)) < 1 / (1 + np.exp(-eta)), dtype="boolean")
    response[[3, 17, 50]] = pd.NA
    d["response"] = response  # a nullable boolean outcome with missing values
    return d


@pytest.fixture(scope="module")
def fit(trial):
    return glmm(trial, "response ~ C(arm, Treatment('PBO')) + week", subject="id", nagq=7)


def test_result_shape_and_counts(fit):
    assert fit.converged and not fit.singular
    assert fit.n_obs == 317 and fit.n_subjects == 80 and fit.n_missing_outcome == 3
    assert list(fit.coef.columns) == ["term", "estimate", "se", "df", "statistic", "p_value",
                                      "ci_low", "ci_high", "odds_ratio", "or_ci_low",
                                      "or_ci_high"]
    np.testing.assert_allclose(fit.coef["odds_ratio"], np.exp(fit.coef["estimate"]))
    assert np.isinf(fit.coef["df"]).all()
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * 4)
    assert fit.bic == pytest.approx(-2 * fit.loglik + 4 * np.log(317))
    sd = fit.variance_components.iloc[0]
    assert sd["term"] == "sd__Intercept" and sd["ci_low"] < sd["estimate"] < sd["ci_high"]
    assert list(fit.random_effects.columns) == ["group", "term", "estimate", "se"]
    assert len(fit.random_effects) == 80
    with pytest.raises(AttributeError):
        fit.loglik = 0.0
    assert "ML by adaptive Gauss-Hermite, 7 nodes" in fit.summary()


def test_predictions(fit, trial):
    conditional = fit.predict()
    frame = fit._frame
    beta = fit.coef["estimate"].to_numpy()
    modes = fit.random_effects["estimate"].to_numpy()[frame.group_codes]
    np.testing.assert_allclose(conditional, 1 / (1 + np.exp(-(frame.x @ beta + modes))))
    # a new participant gets the typical prediction; marginal is pulled towards 1/2
    new = pd.DataFrame({"id": ["P00", "NEW"], "arm": ["KET", "KET"], "week": [2.0, 2.0]})
    on_link = fit.predict(new, kind="conditional", scale="link")
    typical = fit.predict(new, kind="typical", scale="link")
    assert on_link.iloc[1] == pytest.approx(typical.iloc[1])
    assert on_link.iloc[0] == pytest.approx(typical.iloc[0] + fit.random_effects[
        "estimate"].iloc[0])
    marginal = fit.predict(new, kind="marginal")
    p_typical = 1 / (1 + np.exp(-typical))
    assert np.all(np.abs(marginal - 0.5) < np.abs(p_typical - 0.5))
    with pytest.raises(ValueError, match="groups column"):
        fit.predict(new.drop(columns="id"))
    with pytest.raises(ValueError, match="kind"):
        fit.predict(kind="population")


def test_marginal_probability_is_the_integral(fit):
    """The population-averaged probability of each arm at week 2.5 (the mean week)
    equals the integral of the logistic curve over N(0, sd^2), by scipy.integrate."""
    table = fit.predicted_probabilities("arm").set_index("arm")
    typical = fit.predicted_probabilities("arm", kind="typical").set_index("arm")
    sd = fit.random_effect_sd
    for arm, row in table.iterrows():
        eta = np.log(typical.loc[arm, "probability"] / (1 - typical.loc[arm, "probability"]))
        exact = integrate.quad(lambda z, eta=eta: np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
                               * special.expit(eta + sd * z), -np.inf, np.inf,
                               epsabs=1e-13)[0]
        assert row["probability"] == pytest.approx(exact, abs=1e-10)
        assert row["ci_low"] < row["probability"] < row["ci_high"]


def test_delta_method_se_of_the_marginal_probability(fit):
    """The SE of a population-averaged probability is the delta method over
    (beta, log sd): checked against central differences of the probability."""
    from ketex.models.glmm_result import _marginal
    from ketex.models.lsmeans import ReferenceGrid

    cells, matrix = ReferenceGrid.from_frame(fit._frame).lsmean_matrix(["arm"])
    theta = fit.theta.copy()

    def probability(t):
        return _marginal(matrix @ t[:-1], float(np.exp(t[-1])), fit._link)[0]

    h = 1e-6
    jacobian = np.column_stack([(probability(theta + h * e) - probability(theta - h * e))
                                / (2 * h) for e in np.eye(theta.size)])
    expected = np.sqrt(np.einsum("ia,ab,ib->i", jacobian, fit.theta_vcov, jacobian))
    np.testing.assert_allclose(fit.predicted_probabilities("arm")["se"], expected, rtol=1e-6)


def test_anova_and_test(fit):
    table = fit.anova()
    assert table["term"].tolist() == ["C(arm, Treatment('PBO'))", "week"]
    arm = fit.coef.iloc[1]
    assert table["statistic"].iloc[0] == pytest.approx(arm["statistic"] ** 2)
    tested = fit.test([0, 1, 0], labels=["KET vs PBO"])
    assert tested["estimate"].iloc[0] == pytest.approx(arm["estimate"])


def test_boundary_fit_is_the_logistic_regression():
    """Every participant has the same outcomes, so the random-intercept SD is 0: the
    result is the plain logistic regression (statsmodels GLM, to 1e-6)."""
    n = 40
    d = pd.DataFrame({"id": np.repeat(np.arange(n), 4),
                      "dose": np.tile([0.0, 1.0, 2.0, 3.0], n),
                      "y": np.tile([0, 1, 0, 1], n)})
    with pytest.warns(ConvergenceWarning, match="estimated at 0"):
        fit = glmm(d, "y ~ dose", subject="id")
    assert fit.singular and fit.random_effect_sd == 0.0
    reference = sm.GLM(d["y"], sm.add_constant(d["dose"]), family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(fit.coef["estimate"], reference.params, rtol=1e-6)
    np.testing.assert_allclose(fit.coef["se"], reference.bse, rtol=1e-6)
    assert fit.loglik == pytest.approx(reference.llf, abs=1e-8)
    assert (fit.random_effects["estimate"] == 0).all()


def test_offset_enters_with_coefficient_one(trial):
    shifted = trial.assign(shift=0.7)
    base = glmm(trial, "response ~ week", subject="id")
    moved = glmm(shifted, "response ~ week", subject="id", offset="shift")
    assert moved.coef["estimate"].iloc[0] == pytest.approx(base.coef["estimate"].iloc[0] - 0.7,
                                                           abs=1e-5)
    assert moved.loglik == pytest.approx(base.loglik, abs=1e-8)
    with pytest.raises(ValueError, match="offset"):
        moved.predict(pd.DataFrame({"week": [1.0]}), kind="typical")


# ------------------------------------------------------------------- errors
def test_input_problems_are_reported(trial):
    formula = "response ~ week"
    with pytest.raises(ValueError, match="family must be 'binomial'"):
        glmm(trial, formula, subject="id", family="poisson")
    with pytest.raises(ValueError, match="nagq must be an integer from 1"):
        glmm(trial, formula, subject="id", nagq=26)
    with pytest.raises(ValueError, match="nagq"):
        glmm(trial, formula, subject="id", nagq=True)
    with pytest.raises(ValueError, match="link must be one of"):
        glmm(trial, formula, subject="id", link="log")
    with pytest.raises(DataValidationError, match="subject column 'site' is not in the data"):
        glmm(trial, formula, subject="site")
    with pytest.raises(DataValidationError, match="must be 0/1"):
        glmm(trial.assign(score=trial["week"]), "score ~ arm", subject="id")
    with pytest.raises(DataValidationError, match="is 0 in every analysed row"):
        glmm(trial.assign(never=0), "never ~ week", subject="id")
    missing_group = trial.copy()
    missing_group.loc[5, "id"] = None
    with pytest.raises(DataValidationError, match="1 missing value, the first at row 5"):
        glmm(missing_group, formula, subject="id")
    with pytest.raises(ValueError, match="control.start needs 3 values"):
        glmm(trial, formula, subject="id", control=GLMMControl(start=(0.0, 0.0)))


def test_separation_raises_with_advice():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"id": np.repeat(np.arange(40), 3),
                      "arm": np.repeat(np.tile(["A", "B"], 20), 3)})
    d["y"] = np.where(d["arm"] == "B", 1, (rng.random(120) < 0.3).astype(int))
    with pytest.raises(ConvergenceError, match=r"separation.*arm\[T.B\]"):
        glmm(d, "y ~ arm", subject="id")


def test_no_warning_on_a_regular_fit(trial):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        glmm(trial, "response ~ week", subject="id", nagq=3)


def test_nullable_columns_are_read(trial):
    """pandas nullable dtypes (Float64 outcome with pd.NA, Int64 covariate, string
    groups) give the same fit as their NumPy counterparts."""
    plain = trial.assign(response=trial["response"].astype("Float64").to_numpy(
        dtype=float, na_value=np.nan), week=trial["week"].astype(float))
    nullable = trial.assign(response=trial["response"].astype("Float64"),
                            week=trial["week"].astype("Int64"),
                            id=trial["id"].astype("string"))
    a = glmm(plain, "response ~ week", subject="id")
    b = glmm(nullable, "response ~ week", subject="id")
    np.testing.assert_allclose(a.coef["estimate"], b.coef["estimate"], rtol=1e-10)
    assert b.n_missing_outcome == 3
