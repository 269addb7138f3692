"""Fixtures shared by the report tests: the sample trial, loaded once."""

from __future__ import annotations

import matplotlib
import pytest

import ketex

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def sample_trial():
    return ketex.load_trial(ketex.sample_study_path())


@pytest.fixture(scope="session")
def sample_fit(sample_trial):
    from ketex.report.analysis import primary_mmrm

    return primary_mmrm(sample_trial)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
