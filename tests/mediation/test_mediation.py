"""ketex.mediation: closed forms worked by hand, recovery of a*b, subject bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.causal_mediation import mediation


def _data(n=200, seed=3):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n).astype(float)
    c = rng.normal(size=n)
    m = 0.2 + 0.5 * a + 0.3 * c + rng.normal(size=n)
    y = 1.0 + 0.4 * a + 0.7 * m + 0.2 * a * m + 0.1 * c + rng.normal(size=n)
    return pd.DataFrame({"id": np.arange(n), "a": a, "m": m, "y": y, "c": c})


def test_linear_linear_closed_forms_by_hand():
    df = _data()
    res = mediation(df, exposure="a", mediator="m", outcome="y", covariates=["c"])
    xm = np.column_stack([np.ones(len(df)), df.a, df.c])
    b = np.linalg.lstsq(xm, df.m, rcond=None)[0]
    xy = np.column_stack([np.ones(len(df)), df.a, df.m, df.a * df.m, df.c])
    t = np.linalg.lstsq(xy, df.y, rcond=None)[0]
    cbar, mbar = df.c.mean(), df.m.mean()
    e = res.effects.set_index("effect")["estimate"]
    assert e["cde"] == pytest.approx(t[1] + t[3] * mbar, rel=1e-10)
    assert e["pnde"] == pytest.approx(t[1] + t[3] * (b[0] + b[2] * cbar), rel=1e-10)
    assert e["tnie"] == pytest.approx(b[1] * (t[2] + t[3]), rel=1e-10)
    assert e["pnie"] == pytest.approx(b[1] * t[2], rel=1e-10)
    assert e["te"] == pytest.approx(e["pnde"] + e["tnie"], rel=1e-12)
    assert e["pm"] == pytest.approx(e["tnie"] / e["te"], rel=1e-12)


def test_no_interaction_indirect_se_is_sobel():
    df = _data()
    res = mediation(df, exposure="a", mediator="m", outcome="y", interaction=False)
    xm = np.column_stack([np.ones(len(df)), df.a])
    b, rss = np.linalg.lstsq(xm, df.m, rcond=None)[:2]
    vb = rss[0] / (len(df) - 2) * np.linalg.inv(xm.T @ xm)
    xy = np.column_stack([np.ones(len(df)), df.a, df.m])
    t, rss = np.linalg.lstsq(xy, df.y, rcond=None)[:2]
    vt = rss[0] / (len(df) - 3) * np.linalg.inv(xy.T @ xy)
    sobel = np.sqrt(t[2] ** 2 * vb[1, 1] + b[1] ** 2 * vt[2, 2])
    row = res.effects.set_index("effect").loc["tnie"]
    assert row["se"] == pytest.approx(sobel, rel=1e-10)


def test_recovery_of_indirect_effect_coverage():
    a_true, b_true, reps, n = 0.5, 0.6, 200, 60
    covered = 0
    for r in range(reps):
        rng = np.random.default_rng(1000 + r)
        a = rng.integers(0, 2, n).astype(float)
        m = a_true * a + rng.normal(size=n)
        y = 0.3 * a + b_true * m + rng.normal(size=n)
        df = pd.DataFrame({"a": a, "m": m, "y": y})
        row = mediation(df, exposure="a", mediator="m", outcome="y",
                        interaction=False).effects.set_index("effect").loc["tnie"]
        covered += row["ci_low"] <= a_true * b_true <= row["ci_high"]
    # binomial(200, 0.95): 99.9% range about 181..198; the Sobel interval is a bit
    # conservative in small samples, so only the lower bound matters.
    assert covered >= 181


def test_bootstrap_resamples_subjects():
    df = _data(n=80)
    doubled = pd.concat([df, df], ignore_index=True)
    kw = dict(exposure="a", mediator="m", outcome="y", n_boot=50, seed=7)
    one = mediation(df, subject="id", **kw)
    two = mediation(doubled, subject="id", **kw)
    assert two.n_subjects == 80 and two.n_obs == 160
    b1 = one.effects[one.effects.method == "bootstrap"]
    b2 = two.effects[two.effects.method == "bootstrap"]
    np.testing.assert_allclose(b2.ci_low, b1.ci_low, rtol=1e-9)
    np.testing.assert_allclose(b2.ci_high, b1.ci_high, rtol=1e-9)
    rows = mediation(doubled, **kw).effects
    assert not np.allclose(rows[rows.method == "bootstrap"].ci_low, b1.ci_low)


def test_validation_and_dropped_rows():
    df = _data()
    with pytest.raises(ketex.DataValidationError, match="nope"):
        mediation(df, exposure="a", mediator="m", outcome="nope")
    with pytest.raises(ketex.DataValidationError, match="'y'"):
        mediation(df, exposure="a", mediator="m", outcome="y", outcome_model="logistic")
    df.loc[:4, "m"] = np.nan
    res = mediation(df, exposure="a", mediator="m", outcome="y")
    assert (res.n_obs, res.n_dropped) == (195, 5)


def test_a_cell_that_is_not_a_number_is_an_error_not_a_dropped_row():
    df = _data().astype({"m": object})
    df.loc[7, "m"] = "1,5"
    with pytest.raises(ketex.DataValidationError,
                       match=r"mediator column 'm' holds 1 value that is not a number, the "
                             r"first '1,5' \(decimal comma\? use a point: 1.5\) at row 7"):
        mediation(df, exposure="a", mediator="m", outcome="y")


def test_binary_outcome_and_binary_mediator_run():
    df = _data()
    df["yb"] = (df.y > df.y.median()).astype(int)
    df["mb"] = (df.m > 0.5).astype(int)
    r1 = mediation(df, exposure="a", mediator="m", outcome="yb", outcome_model="logistic")
    assert r1.scale == "odds ratio"
    e = r1.effects.set_index("effect")["estimate"]
    assert e["te"] == pytest.approx(e["pnde"] * e["tnie"], rel=1e-10)
    r2 = mediation(df, exposure="a", mediator="mb", outcome="y", mediator_model="logistic")
    e = r2.effects.set_index("effect")["estimate"]
    assert e["te"] == pytest.approx(e["pnde"] + e["tnie"], rel=1e-12)


def test_separated_logistic_outcome_is_a_clear_error():
    df = _data()
    df["yb"] = (df.a > 0.5).astype(int)  # the exposure predicts the outcome perfectly
    with pytest.raises(ketex.ConvergenceError, match="separation"):
        mediation(df, exposure="a", mediator="m", outcome="yb", outcome_model="logistic")


def test_logistic_fits_are_the_glm_core():
    from ketex._mediation_fit import fit_logistic
    from ketex.models._binomial import fit_glm, get_link

    df = _data()
    x = np.column_stack([np.ones(len(df)), df.a, df.c])
    y = (df.m > 0.5).to_numpy(float)
    fit = fit_logistic(x, y)
    beta, vcov, _, converged = fit_glm(x, y, np.zeros(len(y)), get_link("logit"))
    assert converged
    np.testing.assert_array_equal(fit.coef, beta)
    np.testing.assert_array_equal(fit.vcov, vcov)


def test_recovery_with_interaction_coverage_of_every_natural_effect():
    # M = b0 + b1 a + e, Y = 1 + t1 a + t2 M + t3 a M + e (no covariates): the natural
    # effects from a0 = 0 to a1 = 1 by hand, PNDE = t1 + t3 b0, TNDE = t1 + t3 (b0 + b1),
    # PNIE = b1 t2, TNIE = b1 (t2 + t3), TE = PNDE + TNIE, PM = TNIE / TE.
    b0, b1, t1, t2, t3 = 0.2, 0.6, 0.4, 0.5, 0.3
    truth = {"pnde": t1 + t3 * b0, "tnde": t1 + t3 * (b0 + b1), "pnie": b1 * t2,
             "tnie": b1 * (t2 + t3)}
    truth["te"] = truth["pnde"] + truth["tnie"]
    truth["pm"] = truth["tnie"] / truth["te"]
    covered = dict.fromkeys(truth, 0)
    for r in range(200):
        rng = np.random.default_rng(5000 + r)
        n = 120
        a = rng.integers(0, 2, n).astype(float)
        m = b0 + b1 * a + rng.normal(size=n)
        y = 1 + t1 * a + t2 * m + t3 * a * m + rng.normal(size=n)
        e = mediation(pd.DataFrame({"a": a, "m": m, "y": y}), exposure="a", mediator="m",
                      outcome="y").effects.set_index("effect")
        for k, value in truth.items():
            covered[k] += e.loc[k, "ci_low"] <= value <= e.loc[k, "ci_high"]
    # binomial(200, 0.95): 99.9 % of trials cover 181 to 198 times
    assert all(181 <= c <= 198 for c in covered.values()), covered
