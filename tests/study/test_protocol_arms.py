from __future__ import annotations

import pytest

from ketex.study.protocol import Protocol, ProtocolError

HEAD = """
[study]
id = "X"
[[visits]]
name = "BASELINE"
day = 0
window = [-7, 0]
"""

FACTORIAL = HEAD + """
[exercise]
modality = "cycling"
target_kkw = 16.1
""" + "".join(
    f"""
[[arms]]
code = "{drug[:3].upper()}_{ex[:3].upper()}"
factors = {{ drug = "{drug}", exercise = "{ex}" }}
[[arms.treatments]]
drug = "{drug}"
role = "{role}"
dose = {dose}
dose_unit = "mg/kg"
duration_min = 40
days = [1, 3, 5]
""" + ("" if ex == "aerobic" else '[arms.exercise]\nmodality = "stretching"\n')
    for drug, role, dose in (("ketamine", "active", 0.5), ("midazolam", "active_placebo", 0.045))
    for ex in ("aerobic", "stretching")
)


def test_factorial_2x2_with_active_placebo_and_stretching_control():
    protocol = Protocol.from_toml_text(FACTORIAL)
    assert protocol.arm_codes == ("KET_AER", "KET_STR", "MID_AER", "MID_STR")
    assert protocol.factors == {"drug": ("ketamine", "midazolam"),
                                "exercise": ("aerobic", "stretching")}
    assert protocol.arm("MID_AER").treatments[0].role == "active_placebo"
    assert protocol.arm("MID_AER").treatments[0].dose == 0.045
    assert protocol.exercise_for("KET_AER").modality == "cycling"  # study level
    assert protocol.exercise_for("KET_STR").modality == "stretching"  # its own
    assert Protocol.from_toml_text(protocol.to_toml()) == protocol


def test_esketamine_titration_saline_placebo_no_infusion_and_no_exercise():
    text = HEAD + """
[exercise]
modality = "cycling"
[[arms]]
code = "ESK"
[[arms.treatments]]
drug = "esketamine"
route = "intranasal"
dose_unit = "mg"
days = [1, 4, 8, 11]
doses = [56, 56, 84, 84]
[[arms]]
code = "PBO"
exercise = false
[[arms.treatments]]
drug = "saline"
role = "placebo"
dose = 0
dose_unit = "mg/kg"
duration_min = 40
days = [1]
[[arms]]
code = "EX_ONLY"
"""
    protocol = Protocol.from_toml_text(text)
    esk = protocol.arm("ESK").treatments[0]
    assert esk.dose == 56 and esk.planned_doses == (56, 56, 84, 84)
    assert protocol.arm("PBO").treatments[0].dose == 0
    assert protocol.exercise_for("PBO") is None
    assert protocol.arm("EX_ONLY").treatments == () and protocol.arm("EX_ONLY").infusions is None
    assert protocol.exercise_for("EX_ONLY").modality == "cycling"
    assert Protocol.from_toml_text(protocol.to_toml()) == protocol


def test_dose_arms_7_and_17_5_kkw_each_their_own_target():
    text = HEAD + "".join(
        f'[[arms]]\ncode = "{c}"\n[arms.exercise]\nmodality = "treadmill"\ntarget_kkw = {k}\n'
        for c, k in (("LOW", 7.0), ("HIGH", 17.5))
    )
    protocol = Protocol.from_toml_text(text)
    assert (protocol.exercise_for("LOW").target_kkw, protocol.exercise_for("HIGH").target_kkw) \
        == (7.0, 17.5)
    assert protocol.exercise is None


ARM = HEAD + '[[arms]]\ncode = "A"\n[[arms.treatments]]\ndrug = "saline"\ndose_unit = "mg"\n' \
    "days = [1, 2]\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('role = "sham"\ndose = 1',
         "X/study.toml: arms[0].treatments[0].role: 'sham' must be one of active, placebo, "
         "active_placebo"),
        ("dose = 0",
         'X/study.toml: arms[0].treatments[0].dose: 0 is a dose only for role "placebo"; '
         "this active saline needs its dose above 0"),
        ('role = "placebo"\ndoses = [0]',
         "X/study.toml: arms[0].treatments[0].doses: 1 doses for 2 days; give one dose per "
         "day of days"),
        ("dose = 1\nbogus = 2",
         "X/study.toml: arms[0].treatments[0]: unknown key(s) bogus; known keys: drug, dose, "
         "dose_unit, days, role, route, duration_min, doses"),
    ],
)
def test_treatment_errors_exact_message(extra, message):
    with pytest.raises(ProtocolError) as caught:
        Protocol.from_toml_text(ARM + extra, source="X/study.toml")
    assert str(caught.value) == message


def test_factors_on_some_arms_only_and_repeated_cells_are_reported_together():
    text = HEAD + """
[[arms]]
code = "A"
factors = { drug = "ketamine" }
[[arms]]
code = "B"
factors = { drug = "ketamine" }
[[arms]]
code = "C"
[[arms]]
code = "D"
exercise = true
"""
    with pytest.raises(ProtocolError) as caught:
        Protocol.from_toml_text(text, source="s.toml")
    assert caught.value.problems == (
        "s.toml: arms[3].exercise: must be a table ([exercise] or [arms.exercise]); "
        "exercise = false says the arm prescribes none",
        "s.toml: arms[1].factors: the same cell as arm A; every arm must be a distinct "
        "combination of levels",
        "s.toml: arms[2].factors: missing; arm(s) A, B declare factors, so every arm must "
        "(or none)",
    )
    assert str(caught.value).startswith("s.toml: 3 problems; fix each of them:\n  s.toml: ")
