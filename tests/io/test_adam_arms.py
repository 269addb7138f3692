"""ADSL's planned and actual treatment and the factor columns of a 2 x 2 factorial trial."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from ketex.io.adam import actual_treatment, adsl, write_adam
from ketex.study.protocol import Arm, ExercisePrescription, Protocol, Treatment, Visit
from ketex.study.validation import build_trial

AEROBIC = ExercisePrescription(modality="cycling", weeks=4)
STRETCH = ExercisePrescription(modality="stretching", weeks=4, hrr_fraction=(0.0, 0.3))
KETAMINE = Treatment("ketamine", 0.5, "mg/kg", (1, 3), duration_min=40.0)
MIDAZOLAM = Treatment("midazolam", 0.045, "mg/kg", (1, 3), role="active_placebo",
                      duration_min=40.0)


def _arm(code, label, drug, exercise):
    return Arm(code, label, treatments=(KETAMINE if drug == "ketamine" else MIDAZOLAM,),
               exercise=AEROBIC if exercise == "aerobic" else STRETCH,
               factors={"drug": drug, "exercise": exercise})


ARMS = (
    _arm("KA", "Ketamine + aerobic", "ketamine", "aerobic"),
    _arm("KS", "Ketamine + stretching", "ketamine", "stretching"),
    _arm("MA", "Midazolam + aerobic", "midazolam", "aerobic"),
    _arm("MS", "Midazolam + stretching", "midazolam", "stretching"),
)
PEOPLE = [("K1", "KA"), ("K2", "KA"), ("K3", "KA"), ("K4", "KA"), ("M1", "MS"),
          ("S1", "KS")]
INFUSIONS = [
    ("K1", 1, "ketamine", 0.5),
    ("K1", 3, "ketamine", 0.5),
    ("K2", 1, "midazolam", 0.045),  # planned ketamine, got midazolam: the MA cell
    ("M1", 1, "midazolam", 0.045),
    ("M1", 3, "ketamine", 0.5),  # both drugs: no arm gives that
    ("S1", 1, "ketamine", 0.5),
]
SESSIONS = [("K1", 2), ("K4", 2)]  # K3 has neither an infusion nor a session


@pytest.fixture(scope="module")
def trial():
    visits = (Visit("BASELINE", 0, (-7, 0)), Visit("WEEK12", 84, (77, 91)))
    protocol = Protocol("FACT", ARMS, visits)
    raw = {
        "participants": pd.DataFrame(PEOPLE, columns=["participant_id", "arm"]),
        "infusions": pd.DataFrame(INFUSIONS, columns=["participant_id", "day", "drug", "dose"])
        .assign(dose_unit="mg/kg", duration_min=40),
        "exercise": pd.DataFrame(SESSIONS, columns=["participant_id", "day"])
        .assign(duration_min=45.0),
        "assessments": pd.DataFrame({"participant_id": [p for p, _ in PEOPLE], "day": 0,
                                     "visit": "BASELINE", "instrument": "MADRS",
                                     "total": 30}),
    }
    return build_trial(protocol, raw)


def test_actual_treatment_rule(trial):
    actual = actual_treatment(trial)
    assert actual["K1"] == "Ketamine + aerobic"  # as planned
    # midazolam is given by MA and MS; MA has KA's (planned) aerobic prescription
    assert actual["K2"] == "Midazolam + aerobic"
    assert actual["K3"] is pd.NA  # prescribed infusions and exercise, had neither
    assert actual["K4"] == "Ketamine + aerobic"  # exercised, missed infusions: as planned
    assert actual["M1"] == "midazolam + ketamine"  # in the order first received
    assert actual["S1"] == "Ketamine + stretching"
    # the wrong drugs were warned about at loading
    warned = trial.report.loc[trial.report["rule"] == "drug_not_in_arm", "participant_id"]
    assert sorted(warned) == ["K2", "M1"]


def test_adsl_has_planned_actual_and_one_column_per_factor(trial):
    table = adsl(trial).set_index("USUBJID")
    assert list(table.columns[:7]) == ["STUDYID", "SUBJID", "ARM", "TRT01P", "TRT01A", "DRUG",
                                       "EXERCISE"]
    assert table.loc["K2", "TRT01P"] == "Ketamine + aerobic"
    assert table.loc["K2", "TRT01A"] == "Midazolam + aerobic"
    # factors are the planned arm's levels (randomised), not the actual treatment
    assert table["DRUG"].tolist() == ["ketamine"] * 4 + ["midazolam", "ketamine"]
    assert table["EXERCISE"].tolist() == ["aerobic"] * 4 + ["stretching"] * 2
    # safety population: any study intervention; K4 only exercised, K3 had nothing
    assert table["SAFFL"].tolist() == ["Y", "Y", "N", "Y", "Y", "Y"]


def test_define_and_xport_carry_the_new_columns(trial, tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    write_adam(trial, tmp_path, xpt=True)
    define = pd.read_csv(tmp_path / "define.csv")
    adsl_define = define[define["dataset"] == "ADSL"].set_index("variable")
    assert adsl_define.loc["DRUG", "label"] == "Factor: drug"
    assert adsl_define.loc["EXERCISE", "xpt_name"] == "EXERCISE"
    assert "factor 'exercise'" in adsl_define.loc["EXERCISE", "description"]
    assert adsl_define.loc["TRT01A", "label"] == "Actual Treatment for Period 01"
    assert "not treated" in adsl_define.loc["TRT01A", "description"]
    xpt, meta = pyreadstat.read_xport(str(tmp_path / "adsl.xpt"))
    assert xpt["DRUG"].tolist() == ["ketamine"] * 4 + ["midazolam", "ketamine"]
    assert xpt["TRT01A"].tolist()[2] == ""  # K3: missing text is blank
    assert "Factor: exercise" in meta.column_labels


def test_a_factor_named_as_an_adsl_column_is_an_error(trial):
    arms = tuple(Arm(a.code, a.label, treatments=a.treatments, exercise=a.exercise,
                     factors={"arm": dict(a.factors)["drug"] + dict(a.factors)["exercise"]})
                 for a in ARMS)
    bad = Protocol("FACT", arms, trial.protocol.visits)
    with pytest.raises(ValueError, match="factor 'arm' of \\[\\[arms\\]\\] factors gives the "
                                         "ADSL column ARM"):
        adsl(build_trial(bad, {"participants": trial.participants[["participant_id", "arm"]],
                               "assessments": trial.assessments}))


def test_sample_actual_equals_planned():
    table = adsl(ketex.load_trial(ketex.sample_study_path()))
    assert (table["TRT01A"] == table["TRT01P"]).all()
    assert "DRUG" not in table.columns  # the sample declares no factors


def test_adqs_carries_the_factor_columns(trial, tmp_path):
    write_adam(trial, tmp_path)
    adqs = pd.read_csv(tmp_path / "adqs.csv")
    people = adsl(trial).set_index("USUBJID")
    by_subject = adqs.drop_duplicates("USUBJID").set_index("USUBJID")
    for column in ("DRUG", "EXERCISE"):
        assert by_subject[column].to_dict() == people[column].astype(str).to_dict()
    define = pd.read_csv(tmp_path / "define.csv")
    adqs_define = define[define["dataset"] == "ADQS"].set_index("variable")
    assert adqs_define.loc["DRUG", "label"] == "Factor: drug"
    assert "factor 'drug'" in adqs_define.loc["DRUG", "description"]
