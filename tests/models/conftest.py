"""Shared fixtures for the model tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED_REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference" / "mmrm"

FEV_FORMULA = (
    "FEV1 ~ C(ARMCD, Treatment('PBO')) * AVISIT + C(RACE, Treatment('Asian'))"
    " + C(SEX, Treatment('Male'))"
)


def shared_reference(name: str) -> Path:
    path = SHARED_REFERENCE / name
    if not path.exists():
        pytest.skip(
            f"shared reference data {name} not found at {SHARED_REFERENCE.resolve()} "
            "(it lives beside the project checkout, not in it)"
        )
    return path


@pytest.fixture(scope="session")
def fev_data() -> pd.DataFrame:
    return pd.read_csv(shared_reference("fev_data.csv"))
