"""The bundled sample studies in each of their source forms load into equal trials."""

from __future__ import annotations

import pytest

import ketex
from ketex.study.tables import SAFETY_TABLES
from ketex.study.trial import Trial


@pytest.fixture(scope="module")
def folder_trial():
    return ketex.load_trial(ketex.sample_study_path())


def _redcap(study: str) -> ketex.Trial:
    root = ketex.sample_study_path("redcap", study=study)
    return ketex.load_redcap(root / "records.csv", root / "dictionary.csv",
                             root / "mapping.toml")


def test_redcap_form_equals_the_folder(folder_trial):
    trial = _redcap("yale")
    assert folder_trial.differences(trial) == []
    assert len(trial.participants) == 80


def test_sdtm_form_equals_the_folder(folder_trial):
    trial = ketex.load_sdtm(ketex.sample_study_path("sdtm"))
    assert folder_trial.differences(trial) == []
    assert len(trial.assessments) == len(folder_trial.assessments)


# The 2 x 2 factorial: four arms, each with its own treatment (ketamine active, midazolam
# active placebo), its own exercise prescription (cycling or stretching) and its factors,
# and safety tables (adverse events, vitals, medications).

@pytest.fixture(scope="module")
def factorial_folder():
    return ketex.load_trial(ketex.sample_study_path(study="factorial"))


def _assert_arms_survive(trial: Trial) -> None:
    protocol = trial.protocol
    assert protocol.factors == {"drug": ("ketamine", "midazolam"),
                                "exercise": ("aerobic", "stretching")}
    assert {code: (protocol.arm(code).treatments[0].drug,
                   protocol.arm(code).treatments[0].role,
                   protocol.exercise_for(code).modality)
            for code in protocol.arm_codes} == {
        "KET_AEX": ("ketamine", "active", "cycling"),
        "KET_STR": ("ketamine", "active", "stretching"),
        "MID_AEX": ("midazolam", "active_placebo", "cycling"),
        "MID_STR": ("midazolam", "active_placebo", "stretching")}
    drugs = trial.infusions.merge(trial.participants[["participant_id", "arm"]])
    assert drugs.groupby("arm")["drug"].unique().map(tuple).to_dict() == {
        "KET_AEX": ("ketamine",), "KET_STR": ("ketamine",),
        "MID_AEX": ("midazolam",), "MID_STR": ("midazolam",)}


def test_factorial_folder_has_safety_data(factorial_folder):
    # so the comparisons below cover the safety tables (SDTM AE/VS/CM, REDCap forms)
    assert all(len(getattr(factorial_folder, name)) for name in SAFETY_TABLES)


def test_factorial_sdtm_form_equals_the_folder(factorial_folder):
    trial = ketex.load_sdtm(ketex.sample_study_path("sdtm", study="factorial"))
    assert factorial_folder.differences(trial) == []  # safety tables included
    _assert_arms_survive(trial)


def test_factorial_redcap_form_equals_the_folder(factorial_folder):
    # the safety tables travel as the repeating forms adverse_event, vital_signs and
    # medication
    trial = _redcap("factorial")
    assert factorial_folder.differences(trial) == []  # safety tables included
    assert len(trial.participants) == 160
    _assert_arms_survive(trial)
