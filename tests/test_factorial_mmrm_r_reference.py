"""factorial_contrasts vs R's mmrm + emmeans on the factorial sample.

Data ``tests/reference/factorial/mmrm_factorial_data.csv`` (the sample's primary analysis
rows, ``make_mmrm_data.py``); script ``reference_mmrm.R`` and its output
``mmrm_reference.json`` beside it::

    fit <- mmrm(CHG ~ BASE + DRUG * EXERCISE * AVISIT + us(AVISIT | USUBJID), data = d,
                reml = TRUE, method = "Satterthwaite")
    emm <- emmeans(fit, ~ DRUG * EXERCISE | AVISIT)
    contrast(emm, interaction = c("trt.vs.ctrl", "trt.vs.ctrl"), by = "AVISIT")

plus the simple effects (``contrast(emm, "trt.vs.ctrl", by = c("AVISIT", "EXERCISE"))``),
the main effects (``contrast(emmeans(fit, ~ DRUG | AVISIT), "trt.vs.ctrl")``) and the
same averaged over the visits. Tolerances are those of the R mmrm comparison of the MMRM
itself (``tests/models/test_mmrm_rmmrm_reference.py``): -2 REML log-likelihood within
1e-4, estimates within 5e-4 SE, SEs relative 5e-4, df within 0.1; the confidence limits,
``estimate -+ t(df) SE``, then agree within 1.5e-3 SE (5e-4 from the estimate and twice
5e-4 from the SE).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.factorial_mmrm import factorial_contrasts

HERE = Path(__file__).resolve().parent / "reference" / "factorial"
REFERENCE = json.loads((HERE / "mmrm_reference.json").read_text())
FORMULA = "CHG ~ BASE + DRUG * EXERCISE * AVISIT"


@pytest.fixture(scope="module")
def fit():
    d = pd.read_csv(HERE / "mmrm_factorial_data.csv")
    visits = d.sort_values("AVISITN")["AVISIT"].unique().tolist()
    d["AVISIT"] = pd.Categorical(d["AVISIT"], categories=visits, ordered=True)
    d["DRUG"] = pd.Categorical(d["DRUG"], categories=["midazolam", "ketamine"])
    d["EXERCISE"] = pd.Categorical(d["EXERCISE"], categories=["stretching", "aerobic"])
    return ketex.mmrm(d, FORMULA, subject="USUBJID", visit="AVISIT", covariance="us",
                      method="reml", df="satterthwaite")


def _term(r_name: str) -> str:
    if r_name == "(Intercept)":
        return "Intercept"
    return re.sub(r"(DRUG|EXERCISE|AVISIT)(\w+)", r"\1[T.\2]", r_name)


def _same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert len(ours) == len(theirs) > 0
    se = theirs["SE"].to_numpy()
    assert np.max(np.abs(ours["estimate"].to_numpy() - theirs["estimate"]) / se) < 5e-4
    np.testing.assert_allclose(ours["se"].to_numpy(), se, rtol=5e-4)
    np.testing.assert_allclose(ours["df"].to_numpy(), theirs["df"], atol=0.1)
    for mine, r in (("ci_low", "lower.CL"), ("ci_high", "upper.CL")):
        assert np.max(np.abs(ours[mine].to_numpy() - theirs[r]) / se) < 1.5e-3


def test_the_model_is_r_mmrms(fit):
    assert REFERENCE["converged"] and fit.converged
    assert fit.n_obs == REFERENCE["n_obs"]
    assert -2 * fit.loglik == pytest.approx(REFERENCE["minus2loglik"], abs=1e-4)
    r = REFERENCE["coefficients"]
    coef = fit.coef.set_index("term").loc[[_term(t) for t in r["terms"]]]
    assert len(coef) == len(fit.coef)
    _same(coef, pd.DataFrame({
        "estimate": r["estimate"], "SE": r["se"], "df": r["df"],
        "lower.CL": coef["ci_low"], "upper.CL": coef["ci_high"]}))


@pytest.mark.parametrize("by", ["AVISIT", None], ids=["per visit", "over visits"])
def test_cell_means_are_emmeans(fit, by):
    theirs = pd.DataFrame(REFERENCE["by_visit" if by else "overall"]["cells"])
    keys = [*([by] if by else []), "DRUG", "EXERCISE"]
    ours = fit.lsmeans(["DRUG", "EXERCISE"], by=by).astype({k: str for k in keys})
    ours = ours.set_index(keys).loc[pd.MultiIndex.from_frame(theirs[keys])]
    _same(ours, theirs)


def _r_rows(section: dict, by: str | None) -> pd.DataFrame:
    """R's contrasts in the row order of factorial_contrasts, with its contrast labels."""
    frames = []
    key = [by] if by else []
    for name, factor, levels in (("drug_main", "DRUG", None), ("exercise_main", "EXERCISE", None),
                                 ("drug_simple", "DRUG", "EXERCISE"),
                                 ("exercise_simple", "EXERCISE", "DRUG")):
        f = pd.DataFrame(section[name])
        f["effect"] = f"{factor} {'simple' if levels else 'main'} effect"
        label = f["contrast"]
        if levels:
            label = label + f" | {levels} = " + f[levels]
        f["label"] = label
        frames.append(f)
    inter = pd.DataFrame(section["interaction"])
    assert set(inter["DRUG_trt.vs.ctrl"]) == {"ketamine - midazolam"}
    assert set(inter["EXERCISE_trt.vs.ctrl"]) == {"aerobic - stretching"}
    inter["effect"] = "interaction"
    inter["label"] = ("ketamine:aerobic - ketamine:stretching - midazolam:aerobic "
                      "+ midazolam:stretching")
    frames.append(inter)
    return pd.concat(frames, ignore_index=True)[[*key, "effect", "label", "estimate", "SE",
                                                 "df", "lower.CL", "upper.CL"]]


@pytest.mark.parametrize("by", ["AVISIT", None], ids=["per visit", "over visits"])
def test_factorial_contrasts_are_emmeans_contrasts(fit, by):
    ours = factorial_contrasts(fit, by=by, reference_a="midazolam", reference_b="stretching")
    theirs = _r_rows(REFERENCE["by_visit" if by else "overall"], by)
    keys = [*([by] if by else []), "effect", "contrast"]
    ours = ours.astype({k: str for k in keys}).set_index(keys)
    ours = ours.loc[pd.MultiIndex.from_frame(theirs[keys[:-1] + ["label"]])]
    assert len(theirs) == (7 * 15 if by else 7)
    _same(ours, theirs)


def test_committed_data_is_what_the_script_makes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_mmrm_data", HERE / "make_mmrm_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path / "made.csv")
    assert (tmp_path / "made.csv").read_bytes() == (HERE / "mmrm_factorial_data.csv").read_bytes()
