"""``ketex report --plan PATH``: an analysis plan file in place of study.toml's
``[analysis]`` for one run, checked with the same collected errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import ketex
from ketex.cli import _parser, main
from ketex.study.plan_file import read_analysis_plan
from ketex.study.protocol import ProtocolError, tomllib


@pytest.fixture()
def seen(monkeypatch):
    """write_report replaced by a stand-in that keeps the trial it was given."""
    from ketex.report import run

    calls = {}

    def fake(trial, out, *, options=None, **kwargs):
        calls["trial"], calls["options"] = trial, options
        return run.ReportResult(html=Path(out) / "report.html", tables={}, files=())

    monkeypatch.setattr(run, "write_report", fake)
    return calls


def _plan(tmp_path, text: str) -> Path:
    path = tmp_path / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_plan_file_replaces_the_study_plan_for_the_run(tmp_path, seen):
    sample = ketex.sample_study_path()
    plan = _plan(tmp_path, '[analysis.primary]\nformula = "CHG ~ BASE * AVISIT + ARM * AVISIT"'
                 '\ncovariance = ["toeph", "ar1h"]\ndf = "kenward_roger_linear"\n'
                 'primary_visit = "WEEK8"\nreference_arm = "SERIES"\n'
                 '[analysis.subgroups]\ncolumns = ["sex"]\n')
    assert main(["report", str(sample), "--out", str(tmp_path / "r"), "--plan", str(plan)]) == 0
    got = seen["trial"].protocol.analysis
    assert (got.primary.formula, got.primary.covariance, got.primary.df,
            got.primary.primary_visit, got.primary.reference_arm) == (
        "CHG ~ BASE * AVISIT + ARM * AVISIT", ("toeph", "ar1h"), "kenward_roger_linear",
        "WEEK8", "SERIES")  # fmt: skip
    assert got.subgroups.names == ("sex",)
    study = ketex.load_trial(sample)
    assert got.secondary == study.protocol.analysis.secondary  # left out: the defaults
    assert seen["trial"].participants.equals(study.participants)  # the data unchanged
    # without --plan, study.toml's own plan
    assert main(["report", str(sample), "--out", str(tmp_path / "r")]) == 0
    assert seen["trial"].protocol.analysis == study.protocol.analysis
    # --subgroups still overrides the columns, whichever plan
    assert main(["report", str(sample), "--out", str(tmp_path / "r"), "--plan", str(plan),
                 "--subgroups", "site"]) == 0
    assert seen["options"].subgroups == ("site",)


def test_a_bad_plan_file_lists_every_problem_with_the_file_and_key(tmp_path, seen, capsys):
    sample = str(ketex.sample_study_path())
    plan = _plan(tmp_path, '[analysis.primary]\nscale = "MADRS"\nvisits = ["WEEK2", "WEEK99"]'
                 '\ncovariance = ["us", "banded"]\nprimary_visit = "WEEK2"\n'
                 'reference_arm = "PLACEBO"\n[analysis.derivation]\nbaseline = "median"\n')
    assert main(["report", sample, "--out", str(tmp_path / "r"), "--plan", str(plan)]) == 1
    err = capsys.readouterr().err
    assert "trial" not in seen  # no report started
    assert "Traceback" not in err and err.count("\n") == 1
    for key, what in [("analysis.derivation.baseline", "'median'"),
                      ("analysis.primary.covariance[1]", "'banded' is not a covariance"),
                      ("analysis.primary.reference_arm", "arm 'PLACEBO' is not among"),
                      ("analysis.primary.visits[1]", "visit 'WEEK99' is not among")]:
        assert f"{plan}: {key}: {what}" in err, key
    # the same problems as the plan would get in study.toml itself
    study = tomllib.loads((Path(sample) / "study.toml").read_text(encoding="utf-8"))
    study["analysis"] = tomllib.loads(plan.read_text(encoding="utf-8"))["analysis"]
    with pytest.raises(ProtocolError) as in_study:
        ketex.Protocol.from_dict(study, source="study.toml")
    with pytest.raises(ProtocolError) as in_file:
        read_analysis_plan(plan, ketex.load_trial(sample).protocol)
    assert [p.replace(str(plan), "study.toml") for p in in_file.value.problems] == list(
        in_study.value.problems)


@pytest.mark.parametrize(("text", "message"), [
    ("[analysis.primary\n", "not valid TOML"),
    ("[analysis.extras]\nx = 1\n", "analysis: unknown table(s) extras"),
    ('[study]\nid = "X"\n', "(top level): unknown table(s) study; a plan file holds only "
                            "[analysis]"),
    ("title = 'plan'\n", "analysis: missing; add an [analysis] table"),
    ('[analysis.primary]\nprimary_visit = "WEEK99"\n',
     "analysis.primary.primary_visit: visit 'WEEK99' is not among the analysed visits"),
])
def test_plan_files_that_are_not_plans_are_refused(tmp_path, seen, capsys, text, message):
    plan = _plan(tmp_path, text)
    assert main(["report", str(ketex.sample_study_path()), "--out", str(tmp_path / "r"),
                 "--plan", str(plan)]) == 1
    err = capsys.readouterr().err
    assert message in err and str(plan) in err and "trial" not in seen


def test_a_missing_plan_file_is_a_usage_error(tmp_path, seen, capsys):
    assert main(["report", str(ketex.sample_study_path()), "--out", str(tmp_path / "r"),
                 "--plan", str(tmp_path / "nowhere.toml")]) == 2
    assert "nowhere.toml" in capsys.readouterr().err


def test_a_plan_naming_a_column_the_data_lack_names_the_plan_file(mini_folder, capsys):
    plan = _plan(mini_folder, '[analysis.subgroups]\ncolumns = ["sex", "smoker"]\n')
    assert main(["report", str(mini_folder), "--out", str(mini_folder / "out"),
                 "--plan", str(plan)]) == 1
    err = capsys.readouterr().err
    assert f"{plan}: analysis.subgroups.columns[1]: 'smoker'" in err
    assert "study.toml: analysis" not in err and "Traceback" not in err


def test_the_option_has_help_text():
    report = _parser()._subparsers._group_actions[0].choices["report"]
    (action,) = [a for a in report._actions if "--plan" in a.option_strings]
    assert "[analysis]" in action.help and action.metavar == "PATH"


def test_dose_outcome_data_takes_the_outcome_at_the_plans_primary_visit(tmp_path):
    """A plan whose primary visit is not [endpoints] primary_visit: the dose-response
    data (figure 8) are at the plan's visit (they raised the plan's visit error before)."""
    from ketex.report.analysis import dose_outcome_data

    sample_trial = ketex.load_trial(ketex.sample_study_path())
    plan = _plan(tmp_path, '[analysis.primary]\nprimary_visit = "WEEK8"\n')
    trial = ketex.with_analysis_plan(sample_trial, plan)
    got = dose_outcome_data(trial).set_index("participant_id")["CHG"]
    ds = ketex.analysis_dataset(sample_trial)
    week8 = ds[(ds["AVISIT"].astype(str) == "WEEK8") & (ds["ANL01FL"] == "Y")]
    expected = week8.set_index(week8["USUBJID"].astype(str))["CHG"].astype(float)
    assert got.notna().sum() == expected.notna().sum() > 0
    assert got.astype(float).reindex(expected.index).equals(expected)


def test_the_report_methods_name_the_plan_file_and_its_primary_visit(tmp_path):
    """The methods paragraph of report.html says where the plan came from."""
    from ketex.report.run import _page

    sample = ketex.load_trial(ketex.sample_study_path())
    plan = _plan(tmp_path, '[analysis.primary]\nprimary_visit = "WEEK8"\n')
    trial = ketex.with_analysis_plan(sample, plan)
    assert trial.protocol.analysis.source == str(plan)
    assert trial.protocol.analysis == sample.protocol.analysis.__class__(
        trial.protocol.analysis.primary, trial.protocol.analysis.subgroups,
        trial.protocol.analysis.secondary, trial.protocol.analysis.derivation)  # not compared
    primary = ketex.primary_analysis(trial)
    page = _page(trial, {}, {}, primary, None)
    assert f"Primary analysis ({plan} [analysis.primary])" in page
    assert "primary visit WEEK8;" in page and "primary visit WEEK12" not in page
    assert "Primary analysis (study.toml [analysis.primary])" in _page(
        sample, {}, {}, ketex.primary_analysis(sample), None)
