"""ketex.mediation against a by-hand base-R computation of the Valeri-VanderWeele
closed forms (tests/reference/mediation/vanderweele.R: lm/glm fits, the published
formulas, hand-written delta-method gradients), relative 1e-8: both programs evaluate
the same closed forms on the same fits (R's glm converged at epsilon 1e-15).

Nine settings on ``mediation_trial.csv`` (``make_data.py``, fixed seed): linear and
logistic mediator, linear and logistic outcome, with and without the exposure x mediator
interaction, a binary arm and a continuous dose at chosen exposure, covariate and
mediator values, with and without covariates.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketex.causal_mediation import mediation

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference" / "mediation"
REFERENCE = json.loads((REFERENCE_DIR / "vanderweele_reference.json").read_text())
CASES = sorted(name for name in REFERENCE if name != "generated_by")
DEFAULT_SETTINGS = {"exposure_levels": [0, 1]}


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / "mediation_trial.csv")


def _fit(trial: pd.DataFrame, name: str):
    s = REFERENCE[name]["settings"]
    kwargs = {}
    if s["exposure_levels"] != [0, 1]:  # explicit settings; the default ones ketex computes
        kwargs = dict(exposure_levels=tuple(s["exposure_levels"]),
                      covariate_values=dict(s["covariate_values"] or {}),
                      mediator_value=s["mediator_value"])
    covariates = s["covariates"] if isinstance(s["covariates"], list) else [s["covariates"]]
    return mediation(trial, exposure=s["exposure"], mediator=s["mediator"],
                     outcome=s["outcome"], covariates=covariates,
                     interaction=s["interaction"], mediator_model=s["mediator_model"],
                     outcome_model=s["outcome_model"], **kwargs)


@pytest.mark.parametrize("name", CASES)
def test_closed_forms_match_base_r(trial, name):
    expected = REFERENCE[name]
    result = _fit(trial, name)
    assert result.n_obs == expected["n_obs"]
    assert result.sigma_sq == pytest.approx(expected["sigma_sq"], rel=1e-8, abs=0)
    assert result.mediator_value == pytest.approx(expected["settings"]["mediator_value"],
                                                  rel=1e-8)
    table = result.effects[result.effects["method"] == "delta"].set_index("effect")
    assert sorted(table.index) == sorted(expected["effects"])
    for effect, values in expected["effects"].items():
        for column, value in values.items():
            assert table.loc[effect, column] == pytest.approx(value, rel=1e-8), (effect, column)


def test_reference_covers_every_model_combination():
    combos = {(REFERENCE[n]["settings"]["mediator_model"],
               REFERENCE[n]["settings"]["outcome_model"],
               REFERENCE[n]["settings"]["interaction"]) for n in CASES}
    assert combos == {(m, y, i) for m, y in [("linear", "linear"), ("linear", "logistic"),
                                             ("logistic", "linear")] for i in (True, False)}


def test_committed_data_is_what_the_script_makes(trial):
    spec = importlib.util.spec_from_file_location("make_data", REFERENCE_DIR / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pd.testing.assert_frame_equal(module.make().reset_index(drop=True), trial)
    assert np.isnan(trial["vo2_change"]).sum() == 3
