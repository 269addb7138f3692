"""``[analysis.subgroups]`` of study.toml: read, written back, checked against the data,
used by the report's forest plot (the command line's ``--subgroups`` overrides it)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import ketex
from ketex.report.analysis import subgroup_effects
from ketex.report.run import ReportOptions, forest_subgroups, write_report
from ketex.study.plan import check_plan_data
from ketex.study.protocol import Protocol, ProtocolError
from ketex.study.subgroup_plan import SubgroupPlan
from tests.conftest import MINI

SUBGROUPS = """
[analysis.subgroups]
columns = ["sex", "age", "site", "baseline"]
age = [40, 60]
baseline = "median"
"""


@pytest.fixture(scope="module")
def mini_text():
    return (MINI / "study.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample():
    return ketex.load_trial(ketex.sample_study_path())


def _with_subgroups(trial, subgroups: SubgroupPlan):
    analysis = dataclasses.replace(trial.protocol.analysis, subgroups=subgroups)
    return dataclasses.replace(trial, protocol=dataclasses.replace(trial.protocol,
                                                                   analysis=analysis))


def test_columns_and_cut_points_are_read_and_written_back(mini_text, tmp_path):
    protocol = Protocol.from_toml_text(mini_text + SUBGROUPS)
    subgroups = protocol.analysis.subgroups
    assert subgroups == SubgroupPlan(("sex", "age", "site", "baseline"),
                                     (("age", (40.0, 60.0)), ("baseline", "median")))
    assert subgroups.explicit and subgroups.cut("age") == (40.0, 60.0)
    assert subgroups.cut("site") == "median"
    path = protocol.write(tmp_path / "study.toml")
    assert "[analysis.subgroups]" in path.read_text(encoding="utf-8")
    assert Protocol.read(path) == protocol


def test_without_the_table_the_default_subgroups_are_not_written(mini_text):
    protocol = Protocol.from_toml_text(mini_text)
    assert not protocol.analysis.subgroups.explicit
    assert protocol.analysis.subgroups.names == ("sex", "age", "baseline", "site")
    assert "subgroups" not in protocol.to_toml()


def test_empty_columns_mean_no_forest_plot(mini_text, sample):
    protocol = Protocol.from_toml_text(mini_text + "[analysis.subgroups]\ncolumns = []\n")
    assert protocol.analysis.subgroups.names == ()
    trial = _with_subgroups(sample, protocol.analysis.subgroups)
    assert forest_subgroups(trial, ReportOptions(), []) == []


def test_every_malformed_entry_is_reported_at_once_with_its_key(mini_text):
    text = mini_text + ('[analysis.subgroups]\ncolumns = ["sex", "sex"]\nage = [60, 40]\n'
                        'weight_kg = "tertiles"\nbaseline = []\n')
    with pytest.raises(ProtocolError) as caught:
        Protocol.from_toml_text(text, source="trial/study.toml")
    problems = caught.value.problems
    assert len(problems) == 4
    assert "trial/study.toml: analysis.subgroups.columns: duplicated column(s) sex" in problems
    assert "trial/study.toml: analysis.subgroups.age: cut points [60, 40] must increase" \
        in problems
    assert any(p.startswith("trial/study.toml: analysis.subgroups.weight_kg: cut points "
                            'must be "median"') for p in problems)
    assert any(p.startswith("trial/study.toml: analysis.subgroups.baseline:")
               for p in problems)


def test_columns_the_data_lack_are_collected_errors_naming_the_key(sample):
    trial = _with_subgroups(sample, SubgroupPlan(("sex", "smoker", "age"),
                                                 {"sex": (1,), "bmi": "median"}))
    with pytest.raises(ProtocolError) as caught:
        check_plan_data(trial)
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("study.toml: analysis.subgroups.columns[1]: 'smoker' is "
                                  "neither 'baseline' nor a participants column")
    assert problems[1].startswith("study.toml: analysis.subgroups.sex: cut points for 'sex', "
                                  "whose values are not numbers")
    assert problems[2].startswith("study.toml: analysis.subgroups.bmi: cut points for 'bmi'")


def test_the_report_stops_before_any_analysis_on_such_a_plan(sample, tmp_path):
    trial = _with_subgroups(sample, SubgroupPlan(("smoker",)))
    with pytest.raises(ProtocolError, match=r"analysis.subgroups.columns\[0\]: 'smoker'"):
        write_report(trial, tmp_path, options=ReportOptions(table_formats=("csv",)))
    assert not any(tmp_path.iterdir())


def test_the_plan_chooses_the_forest_subgroups_and_the_command_line_overrides_it(sample):
    trial = _with_subgroups(sample, SubgroupPlan(("site", "baseline")))
    skipped = []
    assert forest_subgroups(trial, ReportOptions(), skipped) == ["site", "baseline"]
    assert forest_subgroups(trial, ReportOptions(subgroups=("sex", "smoker")),
                            skipped) == ["sex"]
    assert [s.part for s in skipped] == ["Subgroup"]  # the command line's smoker
    # the default plan: the default subgroups the data have
    assert forest_subgroups(sample, ReportOptions(), []) == ["sex", "age", "baseline", "site"]


def test_cut_points_split_the_forest_subgroup():
    """HAM-D17 trial (four visits): the baseline score cut at 20 and 24."""
    hamd = ketex.load_trial(Path(__file__).resolve().parents[1] / "data" / "hamd")
    trial = _with_subgroups(hamd, SubgroupPlan(("baseline",), {"baseline": (20, 24)}))
    effects = subgroup_effects(trial)  # the plan's columns
    rows = effects[effects["subgroup"] == "Baseline score"]
    assert rows["label"].tolist() == ["Baseline score: < 20", "Baseline score: 20 to < 24",
                                      "Baseline score: \u2265 24"]
    data = ketex.primary_analysis(hamd).data.drop_duplicates("USUBJID")
    by_hand = pd.cut(data["BASE"], [-float("inf"), 20, 24, float("inf")],
                     right=False).value_counts(sort=False)
    assert rows["n"].tolist() == by_hand.tolist()
    assert sum(rows["n"]) == effects["n"].iloc[0]
    assert (rows["ci_low"] < rows["estimate"]).all() and (rows["estimate"] < rows["ci_high"]).all()


def test_subgroup_effects_of_such_a_plan_raise_the_collected_error(sample):
    trial = _with_subgroups(sample, SubgroupPlan(("sex", "smoker")))
    with pytest.raises(ProtocolError, match=r"analysis.subgroups.columns\[1\]: 'smoker'"):
        subgroup_effects(trial)


def test_ketex_report_stops_with_one_line_naming_the_key(tmp_path, capsys):
    """The new user's HAM-D17 trial has no age column: naming it in the plan is an error
    of the plan (without the table, age is left out and listed in "Not analysed")."""
    import shutil

    from ketex.cli import main

    folder = tmp_path / "hamd"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "hamd", folder)
    toml = folder / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8")
                    + '\n[analysis.subgroups]\ncolumns = ["sex", "age"]\n', encoding="utf-8")
    assert main(["report", str(folder), "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("ketex: study.toml: analysis.subgroups.columns[1]: 'age' is "
                            "neither 'baseline' nor a participants column")
    assert not (tmp_path / "out").exists()
