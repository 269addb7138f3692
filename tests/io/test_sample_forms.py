"""The bundled sample study in each of its source forms loads into equal trials."""

from __future__ import annotations

import pytest

import ketex


@pytest.fixture(scope="module")
def folder_trial():
    return ketex.load_trial(ketex.sample_study_path())


def test_redcap_form_equals_the_folder(folder_trial):
    root = ketex.sample_study_path("redcap")
    trial = ketex.load_redcap(root / "records.csv", root / "dictionary.csv",
                              root / "mapping.toml")
    assert folder_trial.differences(trial) == []
    assert len(trial.participants) == 80


def test_sdtm_form_equals_the_folder(folder_trial):
    trial = ketex.load_sdtm(ketex.sample_study_path("sdtm"))
    assert folder_trial.differences(trial) == []
    assert len(trial.assessments) == len(folder_trial.assessments)
