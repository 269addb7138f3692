"""The committed sample study is what data/make_sample.py makes, and it fits the brief."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from ketex.io.folder import load_trial
from ketex.simulate import TrialDesign, simulate_trial

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLE = DATA.parent / "ketex" / "data" / "sample"
TABLE_FILES = ("participants.csv", "infusions.csv", "exercise.csv", "assessments.csv",
               "events.csv")


def _files(folder):
    """Every file under ``folder``, as sorted relative POSIX paths."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _make_sample_module():
    spec = importlib.util.spec_from_file_location("make_sample", DATA / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _make_sample_module()


@pytest.fixture(scope="module")
def fresh(script):
    return simulate_trial(script.DESIGN, seed=script.SEED)


@pytest.fixture(scope="module")
def sample():
    return load_trial(SAMPLE)


def test_sample_uses_the_default_design(script):
    assert script.DESIGN == TrialDesign()
    assert TrialDesign.read(SAMPLE / "design.toml") == script.DESIGN


def test_committed_sample_equals_a_fresh_simulation(sample, fresh):
    assert sample.differences(fresh) == []


def test_committed_truth_equals_the_fresh_truth(fresh):
    strings = {"participant_id": "string", "arm": "string", "site": "string"}
    committed = pd.read_csv(SAMPLE / "truth.csv", dtype=strings)
    pd.testing.assert_frame_equal(committed, fresh.truth, check_exact=False, rtol=1e-12)


def test_make_sample_is_byte_reproducible(script, tmp_path):
    script.make_sample(tmp_path / "one")
    script.make_sample(tmp_path / "two")
    one, two = tmp_path / "one" / "sample", tmp_path / "two" / "sample"
    names = _files(one)
    assert names == _files(SAMPLE)
    top = {name for name in names if "/" not in name}
    assert set(TABLE_FILES) | {"study.toml", "design.toml", "truth.csv"} == top
    assert "streams/manifest.csv" in names  # and the recordings it lists
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


FORMS = ["sample", "sample_redcap", "sample_sdtm"]


def test_every_committed_form_equals_a_fresh_run_byte_for_byte(script, tmp_path):
    script.make_sample(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == FORMS
    for form in FORMS:
        committed = SAMPLE.parent / form
        names = _files(tmp_path / form)
        assert names == _files(committed), form
        for name in names:
            fresh = (tmp_path / form / name).read_bytes()
            assert fresh == (committed / name).read_bytes(), f"{form}/{name}"


def test_sample_figures_fit_the_brief(sample):
    people = sample.participants
    assert sample.truth is None  # a loaded folder carries no truth; it is in truth.csv
    assert people["arm"].value_counts().to_dict() == {"SINGLE": 40, "SERIES": 40}
    assert people["site"].nunique() == 2
    events = sample.events["event"].value_counts()
    assert 0.08 <= events.get("discontinuation", 0) / len(people) <= 0.22  # about 15 %
    assert 2 <= events.get("hospitalisation", 0) <= 5
    a = sample.assessments
    madrs = a[a["instrument"] == "MADRS"]
    assert 30 <= madrs.loc[madrs["visit"] == "BASELINE", "total"].mean() <= 34
    assert (madrs["total"] % 1 != 0).any()  # some totals prorated from 9 of 10 items
    series_days = sample.infusions.groupby("participant_id").size().groupby(sample.arms).max()
    assert series_days.to_dict() == {"SERIES": 6, "SINGLE": 1}
    sessions = sample.exercise.groupby("participant_id").size()
    assert (sessions < 36).mean() > 0.9  # missed sessions
    assert (~sample.exercise["completed"]).any()  # and a few cut short
