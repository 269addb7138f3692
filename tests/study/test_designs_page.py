"""docs/designs.md: every study.toml block loads and is what the page says; examples run."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from ketex.study.protocol import Protocol

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PAGE = Path(__file__).resolve().parents[2] / "docs" / "designs.md"
BLOCK = re.compile(r"```toml\n# design: (?P<name>[\w-]+)\n(?P<body>.*?)```", re.S)
DESIGNS = {m["name"]: m["body"] for m in BLOCK.finditer(PAGE.read_text(encoding="utf-8"))}


def _protocol(name: str) -> Protocol:
    return Protocol.from_dict(tomllib.loads(DESIGNS["common"] + DESIGNS[name]), source=name)


def _roles(protocol):
    return {arm.code: [(t.drug, t.role) for t in arm.treatments] for arm in protocol.arms}


def test_every_design_on_the_page_is_checked():
    assert set(DESIGNS) == {"common", *CHECKS}


def _ketamine_vs_combination(p):
    assert p.exercise_for("KET") is None and p.exercise_for("KET_AEX").modality == "cycling"
    assert _roles(p) == {"KET": [("ketamine", "active")], "KET_AEX": [("ketamine", "active")]}


def _factorial(p):
    assert p.factors == {"drug": ("ketamine", "midazolam"), "exercise": ("aerobic", "stretching")}
    assert _roles(p)["MID_STR"] == [("midazolam", "active_placebo")]
    assert p.exercise_for("KET_STR").hrr_fraction == (0.10, 0.30)
    assert p.analysis.primary.reference_arm == "MID_STR"


def _dose_arms(p):
    assert [p.exercise_for(a).target_kkw for a in ("LOW", "PHD")] == [7.0, 17.5]
    assert _roles(p) == {"LOW": [], "PHD": []}


def _three_modalities(p):
    assert [p.exercise_for(a).modality for a in p.arm_codes] == ["cycling", "resistance",
                                                                 "relaxation"]
    res = p.exercise_for("RES")
    assert (res.sets, res.repetitions, res.load_fraction_1rm) == (3, 12, 0.7)


def _esketamine(p):
    esk, pbo = (arm.treatments[0] for arm in p.arms)
    assert esk.planned_doses == (56, 56, 84, 84, 84, 84, 84, 84)
    assert (pbo.drug, pbo.role, pbo.dose) == ("saline", "placebo", 0)
    assert p.exercise_for("ESK") is None and p.exercise_for("PBO") is None


def _oral(p):
    assert p.exercise_for("ORAL_KET") == p.exercise_for("ORAL_PBO") == p.exercise
    assert p.exercise.modality == "walking"
    assert [arm.treatments[0].route for arm in p.arms] == ["oral", "oral"]


CHECKS = {
    "ketamine-vs-ketamine-plus-exercise": _ketamine_vs_combination,
    "factorial-2x2": _factorial,
    "exercise-dose-arms": _dose_arms,
    "aerobic-resistance-relaxation": _three_modalities,
    "esketamine-vs-placebo": _esketamine,
    "oral-ketamine-shared-exercise": _oral,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_design_loads_as_the_page_says(name):
    CHECKS[name](_protocol(name))


def test_the_page_examples_run():
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    test = doctest.DocTestParser().get_doctest(PAGE.read_text(encoding="utf-8"), {},
                                               "designs.md", str(PAGE), 0)
    result = doctest.DocTestRunner(optionflags=flags).run(test)
    assert result.attempted >= 10
    assert result.failed == 0, "docs/designs.md examples failed (run with -s to see)"
