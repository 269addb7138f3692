"""The [estimands] table of study.toml."""

from __future__ import annotations

import pytest

import ketex
from ketex.estimands.spec import DEFAULT_FORMULA, estimand_spec, read_estimand_spec
from ketex.study.protocol import ProtocolError

TOML = """
[study]
id = "X"

[estimands]
references = { SERIES = "SINGLE", SINGLE = "SINGLE" }
method = "condmean_bootstrap"
n_samples = 200
seed = 7
visits = ["WEEK4", "WEEK8", "WEEK12"]
sensitivity = ["CR", "CIR"]

[estimands.strategies]
"lack of efficacy" = "JR"
other = "MAR"

[estimands.tipping_point]
arm = "SERIES"
deltas = [0, 0.5, 1]
alpha = 0.025
"""


@pytest.fixture(scope="module")
def protocol():
    return ketex.load_trial(ketex.sample_study_path()).protocol


def test_read_from_file(tmp_path, protocol):
    (tmp_path / "study.toml").write_text(TOML, encoding="utf-8")
    spec = read_estimand_spec(tmp_path, protocol=protocol)
    assert dict(spec.references) == {"SERIES": "SINGLE", "SINGLE": "SINGLE"}
    assert dict(spec.strategies) == {"lack of efficacy": "JR", "other": "MAR"}
    assert (spec.method, spec.n_samples, spec.seed) == ("condmean_bootstrap", 200, 7)
    assert spec.visits == ("WEEK4", "WEEK8", "WEEK12")
    assert spec.sensitivity == ("CR", "CIR")
    assert (spec.tipping_arm, spec.tipping_deltas, spec.alpha) == ("SERIES", (0.0, 0.5, 1.0), 0.025)
    assert spec.formula == DEFAULT_FORMULA and spec.analysis_covariates == ("BASE",)
    with pytest.raises(TypeError):
        spec.strategies["other"] = "JR"  # read-only


def test_every_problem_named(protocol):
    bad = {"estimands": {
        "references": {"SERIES": "PLACEBO"},
        "strategies": {"other": "jr"},
        "method": "condmean_jackknife", "n_samples": 10,
        "visits": ["WEEK99"], "sensitivity": ["XX"], "colour": "red",
        "tipping_point": {"arm": "NOPE", "deltas": [1], "alpha": 5},
    }}  # fmt: skip
    with pytest.raises(ProtocolError) as info:
        estimand_spec(bad, protocol=protocol, source="s/study.toml")
    problems = info.value.problems
    expected = [
        "estimands.colour: unknown key",
        "estimands.references.SERIES: 'PLACEBO' is not one of ['SERIES', 'SINGLE']",
        "estimands.references: names no reference for arm 'SINGLE'",
        "estimands.strategies.other: 'jr' is not one of",
        "estimands.n_samples: method 'condmean_jackknife' takes no n_samples",
        "estimands.visits: 'WEEK99' is not a visit of the protocol",
        "estimands.sensitivity: 'XX' is not one of",
        "estimands.tipping_point.arm: must name an arm, got 'NOPE'",
        "estimands.tipping_point.deltas: must be >= 2 numbers",
        "estimands.tipping_point.alpha: must be a number in (0, 1), got 5",
    ]
    for text in expected:
        assert any(p.startswith("s/study.toml: ") and text in p for p in problems), text
    assert len(problems) == len(expected)


def test_absent_table_and_missing_n_samples():
    assert estimand_spec({"study": {"id": "X"}}) is None
    with pytest.raises(ProtocolError, match="needs n_samples"):
        estimand_spec({"estimands": {"references": {"A": "A"}, "strategies": {"other": "JR"},
                                     "method": "approx_bayes"}})  # fmt: skip
    with pytest.raises(ProtocolError, match="not valid TOML"):
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "study.toml").write_text("[estimands\n", encoding="utf-8")
            read_estimand_spec(folder)


def test_study_folder_with_estimands_table_loads(tmp_path):
    """load_trial accepts the [estimands] table that read_estimand_spec reads."""
    import shutil

    folder = tmp_path / "study"
    shutil.copytree(ketex.sample_study_path(), folder)
    toml = folder / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + TOML.split("[study]\nid = \"X\"\n")[1],
                    encoding="utf-8")
    trial = ketex.load_trial(folder)
    assert not (trial.report["severity"] == "error").any()
    spec = read_estimand_spec(folder, protocol=trial.protocol)
    assert spec.tipping_arm == "SERIES"
