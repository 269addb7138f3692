"""The report's estimands part: on a copy of the Yale sample whose study.toml has an
[estimands] table it shows the intercurrent events, the primary MMRM beside each estimand
analysis (the numbers of :func:`ketex.estimand_analyses`) and the tipping-point figure;
without the table the part is listed as not analysed; ``ketex report FOLDER`` passes the
folder."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.report import cli
from ketex.report.context import AnalysisContext
from ketex.report.estimands_section import MMRM
from ketex.report.run import ReportOptions, _estimands_part, write_report

ESTIMANDS = """
[estimands]
references = { SERIES = "SINGLE", SINGLE = "SINGLE" }
method = "condmean_jackknife"
visits = ["WEEK2", "WEEK4", "WEEK12"]
sensitivity = ["CR"]

[estimands.strategies]
"withdrew from the study" = "JR"
other = "MAR"

[estimands.tipping_point]
arm = "SERIES"
deltas = [0, 4, 8]
"""
OPTIONS = ReportOptions(table_formats=("csv",), figure_formats=("png",), png_dpi=30,
                        html_dpi=30, subgroups=())  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("estimands") / "study"
    shutil.copytree(ketex.sample_study_path(), folder)
    toml = folder / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + ESTIMANDS, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def trial(folder):
    return ketex.load_trial(folder)


@pytest.fixture(scope="module")
def report(trial, folder):
    context = AnalysisContext(trial)
    result = write_report(trial, folder.parent / "out", options=OPTIONS, context=context,
                          estimands=folder)  # fmt: skip
    return result, result.html.read_text(encoding="utf-8"), context


@pytest.fixture(scope="module")
def analyses(trial, folder):
    return ketex.estimand_analyses(trial, folder)


def test_the_sensitivity_table_holds_the_numbers_of_estimand_analyses(report, analyses):
    result, page, context = report
    data = result.tables["table_estimand_sensitivity"].data
    assert analyses.primary_visit == "WEEK12"
    expected = analyses.table[analyses.table["visit"] == "WEEK12"].reset_index(drop=True)
    assert expected["analysis"].tolist() == ["primary", "sensitivity: CR"]
    ours = data[data["analysis"] != MMRM].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, expected[list(ours.columns)])
    # the primary MAR MMRM beside them
    mmrm = data[data["analysis"] == MMRM].iloc[0]
    primary = context.primary.contrast.set_index("visit").loc["WEEK12"]
    assert (mmrm["strategy"], mmrm["contrast"]) == ("MAR", "SERIES - SINGLE")
    for column in ("estimate", "se", "ci_low", "ci_high", "p_value"):
        assert mmrm[column] == primary[column]
    # as printed
    for _, row in data.iterrows():
        assert (f"<td>{row['estimate']:.1f} ({row['ci_low']:.1f} to {row['ci_high']:.1f})"
                "</td>") in page, row["analysis"]
    assert np.isfinite(data["estimate"]).all() and len(data) == 3


def test_the_ice_table_counts_the_intercurrent_events(report, analyses, trial):
    result, page, _ = report
    data = result.tables["table_estimand_ice"].data
    counts = analyses.ice.groupby(["arm", "ice_type", "strategy"]).size()
    assert len(counts) and counts.sum() > 0
    shown = data[data["n"] > 0].set_index(["arm", "ice_type", "strategy"])["n"]
    assert shown.sort_index().to_dict() == counts.sort_index().to_dict()
    sizes = trial.participants["arm"].value_counts()
    assert (data["N"] == data["arm"].map(sizes)).all()
    assert data["arm"].iloc[0] == "SINGLE"  # the reference arm first


def test_the_section_is_numbered_in_citation_order(report, check_numbering, analyses):
    result, page, _ = report
    check_numbering(page)
    section = page[page.index('<section id="estimands">'):]
    section = section[:section.index("</section>")]
    for name in ("table_estimand_ice", "table_estimand_sensitivity"):
        assert result.tables[name].title.split(". ", 1)[1] in section
    assert '<figure id="figure_tipping_point">' in section
    assert "Tipping-point analysis at WEEK12: the difference SERIES - SINGLE" in section
    assert page.index('id="primary"') < page.index('id="estimands"') < page.index(
        'id="endpoints"')
    assert "Estimands (study.toml [estimands]): intercurrent events handled as withdrew " \
        "from the study: JR; other: MAR" in page
    assert "Estimands and sensitivity analyses:" not in page
    assert (result.html.parent / "figures" / "figure_tipping_point.png").exists()


def test_without_an_estimands_table_the_part_is_not_analysed(sample_trial):
    for given in (None, ketex.sample_study_path()):  # nothing, or a folder without one
        skipped = []
        out = _estimands_part(AnalysisContext(sample_trial), given, None, None, None, skipped)
        assert out is None
        assert [str(s) for s in skipped] == [
            "Estimands and sensitivity analyses: no [estimands] table in study.toml"]


def test_ketex_report_passes_the_study_folder(monkeypatch, folder, trial, tmp_path):
    given = {}

    class Result:
        html, files = tmp_path / "report.html", ()

    def fake(trial, out, **kwargs):
        given.update(kwargs)
        return Result()

    monkeypatch.setattr("ketex.report.run.write_report", fake)
    assert cli.run_report(trial, tmp_path, source=str(folder)) == 0
    assert given["estimands"] == folder
    assert cli.run_report(trial, tmp_path, source="records.xlsx") == 0
    assert given["estimands"] is None
