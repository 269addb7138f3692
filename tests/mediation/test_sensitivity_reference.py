"""ketex.mediation_sensitivity against R mediation 4.5.1 ``medsens`` and the closed form
of Imai, Keele and Yamamoto (2010) (tests/reference/mediation/medsens.R).

medsens iterates feasible GLS (run with eps = 1e-22, at its fixed point to about 1e-12);
ketex computes that fixed point in closed form. Compared at relative 1e-8: the mediated
effects d0 and d1 and their pointwise 95 % limits on medsens's grid (rho = -0.9 to 0.9
by 0.1), the R-squared products, with and without the exposure x mediator interaction;
the IKY closed form and rho tilde written out in R; the rho at which each mediated effect
is zero against uniroot on a by-hand feasible GLS loop (tol 1e-13, so 1e-9 absolute).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketex import mediation, mediation_sensitivity

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference" / "mediation"
REFERENCE = json.loads((REFERENCE_DIR / "medsens_reference.json").read_text())
KW = dict(exposure="exercise", mediator="vo2_change", outcome="madrs_change",
          covariates=["age", "madrs_base"])


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / "mediation_trial.csv")


@pytest.mark.parametrize("case", ["no_interaction", "interaction"])
def test_curve_matches_medsens(trial, case):
    ref = REFERENCE[case]
    sens = mediation_sensitivity(trial, interaction=ref["interaction"], rho=ref["rho"], **KW)
    curve = sens.curve
    for effect, key in (("pnie", "d0"), ("tnie", "d1")):
        rows = curve[curve["effect"] == effect]
        np.testing.assert_allclose(rows["rho"], ref["rho"], rtol=0, atol=0)
        np.testing.assert_allclose(rows["estimate"], ref[key], rtol=1e-8)
        np.testing.assert_allclose(rows["ci_low"], ref[f"lower_{key}"], rtol=1e-8)
        np.testing.assert_allclose(rows["ci_high"], ref[f"upper_{key}"], rtol=1e-8)
        np.testing.assert_allclose(rows["r2_star_prod"], ref["r2star_prod"], rtol=1e-12)
        np.testing.assert_allclose(rows["r2_tilde_prod"], ref["r2tilde_prod"], rtol=1e-8)
    assert sens.r_squared_mediator == pytest.approx(ref["r_square_m"], rel=1e-10)
    assert sens.r_squared_outcome == pytest.approx(ref["r_square_y"], rel=1e-10)
    assert sens.n_obs == 137 and sens.n_dropped == 3


@pytest.mark.parametrize("case", ["no_interaction", "interaction"])
def test_rho_at_zero(trial, case):
    ref = REFERENCE[case]
    sens = mediation_sensitivity(trial, interaction=ref["interaction"], **KW)
    for effect, expected in zip(("pnie", "tnie"), ref["rho_at_zero_fgls"], strict=True):
        assert sens.rho_at_zero[effect] == pytest.approx(expected, abs=1e-9)
        assert sens.r2_star_at_zero[effect] == pytest.approx(expected**2, abs=1e-9)
    # medsens reports the grid value at which |ACME| is least (one value without interaction)
    grid = np.asarray(ref["rho"])
    nearest = [grid[np.argmin(np.abs(grid - sens.rho_at_zero[e]))] for e in ("pnie", "tnie")]
    expected = np.atleast_1d(ref["err_cr_d"])
    np.testing.assert_allclose(expected, nearest[: len(expected)], atol=1e-12)


def test_no_interaction_is_the_iky_closed_form(trial):
    ref = REFERENCE["no_interaction"]
    sens = mediation_sensitivity(trial, rho=ref["rho"], **KW)
    rows = sens.curve[sens.curve["effect"] == "pnie"]
    np.testing.assert_allclose(rows["estimate"], ref["closed_form"], rtol=1e-10)
    assert sens.rho_at_zero["pnie"] == pytest.approx(ref["rho_tilde"], rel=1e-10)


@pytest.mark.parametrize("interaction", [False, True])
def test_rho_zero_gives_the_mediation_estimates(trial, interaction):
    sens = mediation_sensitivity(trial, interaction=interaction, rho=[0.0], **KW)
    effects = mediation(trial, interaction=interaction, **KW).effects.set_index("effect")
    for effect in ("pnie", "tnie"):
        row = sens.curve[sens.curve["effect"] == effect].iloc[0]
        assert row["estimate"] == pytest.approx(effects.loc[effect, "estimate"], rel=1e-10)


def test_sensitivity_figure(trial):
    import matplotlib.pyplot as plt

    from ketex.report.figures import plot_mediation_sensitivity

    sens = mediation_sensitivity(trial, interaction=True, **KW)
    ax = plot_mediation_sensitivity(sens, effect="tnie")
    line = next(x for x in ax.get_lines() if x.get_gid() == "estimate")
    rows = sens.curve[sens.curve["effect"] == "tnie"]
    np.testing.assert_array_equal(line.get_ydata(), rows["estimate"])
    zero = next(x for x in ax.get_lines() if x.get_gid() == "rho_at_zero")
    assert zero.get_xdata()[0] == sens.rho_at_zero["tnie"]
    with pytest.raises(ValueError, match="pnie"):
        plot_mediation_sensitivity(sens, effect="te")
    from ketex.report.style import new_figure

    _, given = new_figure()
    assert plot_mediation_sensitivity(sens, ax=given) is given
    plt.close("all")


def test_bad_rho_is_a_clear_error(trial):
    import ketex

    with pytest.raises(ketex.DataValidationError, match="strictly between -1 and 1"):
        mediation_sensitivity(trial, rho=[0.0, 1.0], **KW)


def test_continuous_exposure_levels_at_rho_zero(trial):
    kw = dict(KW, exposure="dose_kkw")
    sens = mediation_sensitivity(trial, interaction=True, exposure_levels=(5, 15),
                                 rho=[0.0, 0.3], **kw)
    effects = mediation(trial, interaction=True, exposure_levels=(5, 15), **kw).effects
    effects = effects.set_index("effect")
    at_zero = sens.curve[sens.curve["rho"] == 0.0].set_index("effect")
    for effect in ("pnie", "tnie"):
        assert at_zero.loc[effect, "estimate"] == pytest.approx(
            effects.loc[effect, "estimate"], rel=1e-10)
    # the curve is linear in kappa(rho): the effect at a is b1 (t2 - kappa + t3 a)(a1 - a0),
    # so the difference between tnie and pnie, b1 t3 (a1 - a0)^2, does not depend on rho
    gaps = sens.curve.pivot(index="rho", columns="effect", values="estimate")
    gap = gaps["tnie"] - gaps["pnie"]
    assert gap.iloc[0] == pytest.approx(gap.iloc[1], rel=1e-10)
