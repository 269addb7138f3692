"""One argument vocabulary for every model, and the deprecated names kept for a release.

``subject=`` is the independent unit of every model (``groups=`` of lmm, glmm and gee
warns and fits the same model), ``covariance_group=`` the MMRM's per-group covariance
(``group=``), ``conf_level`` the confidence level of every control
(``confidence_level=``), and every model's control derives from one base.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.models._control import ModelControl, OptimiserControl

N_SUBJECTS, VISITS = 30, ["W1", "W2", "W3"]


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    subject = np.repeat(np.arange(N_SUBJECTS), len(VISITS))
    arm = np.where(subject % 2 == 1, "KET", "PBO")
    week = np.tile([1.0, 2.0, 4.0], N_SUBJECTS)
    shared = np.repeat(rng.normal(0, 1.5, N_SUBJECTS), len(VISITS))
    y = -week - (arm == "KET") * week + shared + rng.normal(0, 2, subject.size)
    return pd.DataFrame({"id": subject, "visit": np.tile(VISITS, N_SUBJECTS), "arm": arm,
                         "week": week, "y": y, "resp": (y < -3).astype(int)})


CALLS = {
    "lmm": (ketex.lmm, "y ~ arm * week", {"re_formula": "1"}),
    "glmm": (ketex.glmm, "resp ~ arm + week", {}),
    "gee": (ketex.gee, "resp ~ arm + visit", {"time": "visit"}),
}


@pytest.mark.parametrize("model", list(CALLS))
def test_groups_is_a_deprecated_alias_of_subject(model, trial):
    fit, formula, options = CALLS[model]
    new = fit(trial, formula, subject="id", **options)
    with pytest.warns(FutureWarning, match=rf"{model}\(groups=...\) is deprecated.*subject="):
        old = fit(trial, formula, groups="id", **options)
    pd.testing.assert_frame_equal(old.coef, new.coef)
    with pytest.raises(TypeError, match="give only subject="), \
            pytest.warns(FutureWarning):
        fit(trial, formula, subject="id", groups="arm", **options)
    with pytest.raises(TypeError, match="missing the keyword argument subject="):
        fit(trial, formula, **options)


def test_group_is_a_deprecated_alias_of_covariance_group(trial):
    new = ketex.mmrm(trial, "y ~ arm * visit", subject="id", visit="visit",
                     covariance_group="arm", covariance="cs")
    with pytest.warns(FutureWarning, match=r"mmrm\(group=...\).*covariance_group="):
        old = ketex.mmrm(trial, "y ~ arm * visit", subject="id", visit="visit", group="arm",
                         covariance="cs")
    pd.testing.assert_frame_equal(old.coef, new.coef)
    assert set(new.covariance_matrix) == {"KET", "PBO"}


@pytest.mark.parametrize("control", [ketex.MMRMControl, ketex.LMMControl, ketex.GLMMControl])
def test_confidence_level_is_a_deprecated_alias_of_conf_level(control):
    with pytest.warns(FutureWarning, match="confidence_level=...\\) is deprecated"):
        old = control(confidence_level=0.9)
    assert old == control(conf_level=0.9)
    assert old.conf_level == 0.9
    assert dataclasses.replace(old, max_iterations=5).conf_level == 0.9
    with pytest.raises(ValueError, match=r"conf_level must be in \(0, 1\), got 95"):
        control(conf_level=95)


def test_the_conf_level_of_a_control_reaches_the_intervals(trial):
    fits = [ketex.lmm(trial, "y ~ arm * week", subject="id", re_formula="1",
                      control=ketex.LMMControl(conf_level=level)) for level in (0.8, 0.95)]
    narrow, wide = (f.coef["ci_high"] - f.coef["ci_low"] for f in fits)
    assert np.all(narrow < wide)


def test_gee_iteration_options_are_a_gee_control(trial):
    new = ketex.gee(trial, "resp ~ arm + visit", subject="id",
                    control=ketex.GEEControl(max_iterations=50, tolerance=1e-9))
    with pytest.warns(FutureWarning, match=r"gee\(max_iterations=, tolerance=...\)"):
        old = ketex.gee(trial, "resp ~ arm + visit", subject="id", max_iterations=50,
                        tolerance=1e-9)
    pd.testing.assert_frame_equal(old.coef, new.coef)
    with pytest.raises(ketex.ConvergenceError, match="did not converge"):
        ketex.gee(trial, "resp ~ arm + visit", subject="id",
                  control=ketex.GEEControl(max_iterations=1))
    with pytest.raises(TypeError, match="control= and the deprecated"):
        ketex.gee(trial, "resp ~ arm + visit", subject="id", control=ketex.GEEControl(),
                  tolerance=1e-9)


@pytest.mark.parametrize("control", [ketex.MMRMControl, ketex.LMMControl, ketex.GLMMControl,
                                     ketex.GEEControl])
def test_every_control_is_frozen_and_from_one_base(control):
    assert issubclass(control, ModelControl)
    options = control()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.max_iterations = 3
    with pytest.raises(ValueError, match="max_iterations must be a positive integer"):
        control(max_iterations=0)
    with pytest.raises(ValueError, match="tolerance must be a positive number"):
        control(tolerance=-1.0)
    if issubclass(control, OptimiserControl):
        with pytest.raises(ValueError, match="optimisers must be among"):
            control(optimisers=("adam",))


@pytest.mark.parametrize("model", ["mmrm", "lmm", "glmm", "gee"])
def test_every_model_names_its_unit_subject(model):
    import inspect
    parameters = inspect.signature(getattr(ketex, model)).parameters
    assert parameters["subject"].kind is inspect.Parameter.KEYWORD_ONLY


def test_conf_level_in_the_pooling_and_adjustment_functions():
    from ketex.estimands.pooling import pool_bootstrap, pool_jackknife, rubin_rules
    from ketex.models.multiplicity import adjust_contrasts

    calls = {
        "rubin_rules": lambda **k: rubin_rules([1.2, 0.8, 1.5], [0.5, 0.55, 0.48], 50, **k),
        "pool_jackknife": lambda **k: pool_jackknife(1.0, [0.9, 1.1, 1.0, 1.2], **k),
        "pool_bootstrap": lambda **k: pool_bootstrap(1.0, [1.0, 1.3, 0.7, 1.1, 0.4, 1.6],
                                                     "normal", **k),
    }
    for name, call in calls.items():
        with pytest.warns(FutureWarning, match=rf"{name}\(confidence_level=...\)"):
            old = call(confidence_level=0.8)
        assert old == call(conf_level=0.8) != call()
    table = pd.DataFrame({"estimate": [1.0, 2.0], "se": [0.5, 0.5], "df": [30.0, 30.0],
                          "statistic": [2.0, 4.0], "p_value": [0.05, 0.001],
                          "ci_low": [0.0, 1.0], "ci_high": [2.0, 3.0]})
    new = adjust_contrasts(table, np.eye(2) * 0.25, [0, 0], "bonferroni", 0.9)
    with pytest.warns(FutureWarning, match="adjust_contrasts"):
        old = adjust_contrasts(table, np.eye(2) * 0.25, [0, 0], "bonferroni",
                               confidence_level=0.9)
    pd.testing.assert_frame_equal(old, new)
