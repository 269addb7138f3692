"""The antidepressant trial (rbmi's antidepressant_data) and its ICE table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REFERENCE = Path(__file__).parents[1] / "reference" / "estimands"
FORMULA = "CHANGE ~ BASVAL * VISIT + THERAPY * VISIT"
REFERENCES = {"DRUG": "PLACEBO", "PLACEBO": "PLACEBO"}
ROLES = {"subject": "PATIENT", "visit": "VISIT", "group": "THERAPY"}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name, dtype={"PATIENT": str, "VISIT": str})


@pytest.fixture(scope="session")
def antidepressant() -> pd.DataFrame:
    """One row per patient and visit (missing CHANGE where not observed)."""
    data = _read("antidepressant.csv")
    data["THERAPY"] = pd.Categorical(data["THERAPY"], ["PLACEBO", "DRUG"])
    return data


@pytest.fixture(scope="session")
def antidepressant_ice() -> pd.DataFrame:
    """First visit after stopping study drug, strategy JR (rbmi's quickstart)."""
    return _read("antidepressant_ice.csv")


@pytest.fixture(scope="session")
def fit_mar(antidepressant, antidepressant_ice):
    from ketex import reference_based_mi

    return reference_based_mi(
        antidepressant, FORMULA, **ROLES, references=REFERENCES,
        ice=antidepressant_ice.assign(strategy="MAR"), analysis_covariates=["BASVAL"],
    )  # fmt: skip


@pytest.fixture(scope="session")
def fit_jr(antidepressant, antidepressant_ice):
    from ketex import reference_based_mi

    return reference_based_mi(
        antidepressant, FORMULA, **ROLES, references=REFERENCES, ice=antidepressant_ice,
        analysis_covariates=["BASVAL"],
    )  # fmt: skip
