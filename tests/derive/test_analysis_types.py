"""The analysis dataset's arm and flags behave the same under pandas 2 and 3.

``ARM`` is an ordered Categorical with the protocol's reference arm first, so every
contrast has one direction; the ADaM flags are Categoricals of "Y" / "N" whose missing
values compare as "not Y" (a nullable string would give NA, and a filter on it no rows).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import ketex
from ketex.study.plan import AnalysisPlan, PrimaryAnalysis

FLAGS = ("ABLFL", "ANL01FL", "CRIT1FL", "CRIT2FL")


@pytest.fixture(scope="module")
def trial():
    return ketex.load_trial(ketex.sample_study_path())


@pytest.fixture(scope="module")
def ds(trial):
    return ketex.analysis_dataset(trial)


def test_arm_is_ordered_with_the_reference_first(trial, ds):
    assert isinstance(ds["ARM"].dtype, pd.CategoricalDtype)
    assert ds["ARM"].cat.ordered
    assert list(ds["ARM"].cat.categories) == ["SINGLE", "SERIES"]
    plan = AnalysisPlan(PrimaryAnalysis(reference_arm="SERIES"))
    other = dataclasses.replace(trial, protocol=dataclasses.replace(trial.protocol,
                                                                    analysis=plan))
    arms = ketex.analysis_dataset(other)["ARM"]
    assert list(arms.cat.categories) == ["SERIES", "SINGLE"]
    assert (arms.astype(str) == ds["ARM"].astype(str)).all()


def test_the_documented_flag_filter_keeps_the_analysed_records_after_baseline(ds):
    # docs/endpoints-response-remission.md
    after = ds[(ds.ANL01FL == "Y") & (ds.ABLFL != "Y")]
    analysed = int((ds["ANL01FL"] == "Y").sum())
    baselines = int((ds["ABLFL"] == "Y").sum())
    assert baselines == 80
    assert len(after) == analysed - baselines == 1000
    assert (after["AVISIT"] != "BASELINE").all()


@pytest.mark.parametrize("flag", FLAGS)
def test_flags_are_y_n_or_missing_and_compare_to_plain_booleans(ds, flag):
    values = ds[flag]
    assert isinstance(values.dtype, pd.CategoricalDtype)
    assert list(values.cat.categories) == ["Y", "N"]
    for test in (values == "Y", values != "Y", values.eq("N")):
        assert test.dtype == bool
    assert ((values == "Y") | (values != "Y")).all()
    assert values.fillna("N").isin(["Y", "N"]).all()
