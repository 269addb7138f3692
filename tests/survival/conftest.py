"""Shared fixtures for the survival tests: the R reference and its data sets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference" / "survival"


def as_array(values) -> np.ndarray:
    """R's JSON numbers back to floats ("NA" and "NaN" -> nan, "Inf" -> inf)."""
    special = {"NA": np.nan, "NaN": np.nan, "Inf": np.inf, "-Inf": -np.inf}
    if not isinstance(values, list):
        values = [values]
    flat = np.array(values, dtype=object).ravel()
    return np.array([special.get(v, v) if isinstance(v, str) else v for v in flat], dtype=float)


@pytest.fixture(scope="session")
def reference() -> dict:
    return json.loads((REFERENCE_DIR / "survival_reference.json").read_text())


def load(name: str) -> pd.DataFrame:
    """A reference CSV with the factor levels the R script sets."""
    frame = pd.read_csv(REFERENCE_DIR / f"{name}.csv")
    if "arm" in frame and name != "tiny":
        frame["arm"] = pd.Categorical(frame["arm"], categories=["single", "series"])
    if "severity" in frame:
        frame["severity"] = pd.Categorical(
            frame["severity"], categories=["mild", "moderate", "severe"]
        )
    return frame


@pytest.fixture(scope="session")
def relapse() -> pd.DataFrame:
    return load("relapse")


@pytest.fixture(scope="session")
def weekly() -> pd.DataFrame:
    return load("relapse_weekly")


@pytest.fixture(scope="session")
def tiny() -> pd.DataFrame:
    return load("tiny")
