"""The report's factorial part: on the bundled 2 x 2 factorial it shows the CONSORT-factorial
table (the numbers of :func:`factorial_outputs`), the interaction plot and the factorial
forest, numbered in citation order; a trial that declares factors it cannot analyse lists
the part under "Not analysed"; a trial without factors gets no factorial part.

The plan's fifteen visits are cut to three to keep the fits quick (the full sample's report
runs in tests/report/test_report_context.py)."""

from __future__ import annotations

import dataclasses
import re
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.report.context import AnalysisContext
from ketex.report.factorial_section import factorial_outputs
from ketex.report.run import ReportOptions, _factorial_part, write_report
from ketex.study.protocol import Arm
from tests.report.conftest import needs_chromium, table_overflow

VISITS = ("WEEK2", "WEEK4", "WEEK12")
OPTIONS = ReportOptions(table_formats=("csv",), figure_formats=("png",), png_dpi=30,
                        html_dpi=30, subgroups=())  # fmt: skip


def _with_visits(trial, visits):
    protocol = trial.protocol
    primary = dataclasses.replace(protocol.analysis.primary, visits=visits)
    analysis = dataclasses.replace(protocol.analysis, primary=primary)
    return dataclasses.replace(trial, protocol=dataclasses.replace(protocol, analysis=analysis))


@pytest.fixture(scope="module")
def trial():
    return _with_visits(ketex.load_trial(ketex.sample_study_path(study="factorial")), VISITS)


@pytest.fixture(scope="module")
def report(trial, tmp_path_factory):
    with warnings.catch_warnings():
        # the Cox model of time to relapse: no relapse in the midazolam arms
        warnings.filterwarnings("ignore", "The log-likelihood converged before",
                                ketex.errors.ConvergenceWarning)
        result = write_report(trial, tmp_path_factory.mktemp("factorial"), options=OPTIONS)
    return result, result.html.read_text(encoding="utf-8")


class _Section(HTMLParser):
    """The text of each table cell and the figure ids of one section of the page."""

    def __init__(self, anchor: str) -> None:
        super().__init__()
        self.anchor, self.inside, self.depth = anchor, False, 0
        self.cells: list[str] = []
        self.figures: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            if attrs.get("id") == self.anchor:
                self.inside = True
            elif self.inside:
                self.depth += 1
        if not self.inside:
            return
        if tag in ("td", "th"):
            self._cell = []
        elif tag == "figure":
            self.figures.append(attrs["id"])

    def handle_endtag(self, tag):
        if tag == "section" and self.inside:
            if self.depth:
                self.depth -= 1
            else:
                self.inside = False
        elif tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self.inside:
            self.text.append(data)


def _section(page: str, anchor: str) -> _Section:
    parser = _Section(anchor)
    parser.feed(page)
    return parser


def test_the_factorial_table_holds_the_numbers_of_factorial_outputs(trial, report):
    result, page = report
    expected = factorial_outputs(trial).table
    shown = result.tables["table_factorial"]
    pd.testing.assert_frame_equal(shown.data, expected.data)
    pd.testing.assert_frame_equal(shown.display, expected.display)
    assert expected.data["part"].tolist().count("cell") == 4
    assert np.isfinite(expected.data["estimate"]).all()
    section = _section(page, "factorial")
    cells = set(section.cells)
    for value in expected.display.to_numpy().ravel():
        if str(value).strip():
            assert str(value).strip() in cells, value
    for _, row in expected.data[expected.data["part"] != "cell"].iterrows():
        assert any(f"{row['estimate']:.1f} ({row['ci_low']:.1f} to " in c for c in cells), row
    assert (result.html.parent / "tables" / "table_factorial.csv").exists()


def test_both_figures_are_shown_and_numbered_in_citation_order(report, check_numbering):
    result, page = report
    section = _section(page, "factorial")
    assert section.figures == ["figure_factorial_interaction", "figure_factorial_forest"]
    series = check_numbering(page)
    titles = [c.split(". ", 1)[1] for c in series["Table"]]
    assert titles.index(result.tables["table_factorial"].title.split(". ", 1)[1]) == 2
    opening = "".join(section.text)
    # Table 1 baseline, Table 2 the MMRM, then the factorial table; the figures of the
    # participants' and the primary sections come before
    before = len(_section(page, "participants").figures) + len(_section(page, "primary").figures)
    assert before == 4
    cited = re.findall(r"\((Table \d+|Figure \d+)\)", opening)
    assert cited == ["Table 3", f"Figure {before + 1}", f"Figure {before + 2}"]
    figures = [c for c in series["Figure"] if c.startswith(("Figure 5.", "Figure 6."))]
    assert "one panel per drug, one line per exercise" in figures[0]
    assert figures[1].startswith("Figure 6. Factorial effects at WEEK12")
    for stem in ("figure_factorial_interaction", "figure_factorial_forest"):
        assert (result.html.parent / "figures" / f"{stem}.png").exists()


def test_methods_and_key_results_name_the_model(trial, report):
    result, page = report
    data = result.tables["table_factorial"].data
    assert ("Factorial analysis: the primary MMRM with the arm replaced by the factors drug "
            "and exercise and their interaction, CHG ~ BASE + (DRUG * EXERCISE) * AVISIT") \
        in page
    assert "reference levels drug = midazolam and exercise = stretching" in page
    # they are the levels of the control cell study.toml names as the reference arm
    assert trial.protocol.analysis.primary.reference_arm == "MID_STR"
    mmrm = result.tables["table2_mmrm"].data
    assert set(mmrm.loc[mmrm["kind"] == "difference", "arm"]) == {
        "KET_AEX - MID_STR", "KET_STR - MID_STR", "MID_AEX - MID_STR"}
    interaction = data[data["part"] == "interaction"].iloc[0]
    assert (f"interaction drug x exercise {interaction['estimate']:.1f} (95% CI "
            f"{interaction['ci_low']:.1f} to {interaction['ci_high']:.1f})") in page
    assert '<a href="#factorial">Factorial analysis</a>' in page
    assert page.index('id="primary"') < page.index('id="factorial"') < page.index(
        'id="endpoints"')


def test_factors_that_cannot_be_analysed_are_listed(trial):
    # one factor only: the arms keep their drug, the exercise factor is dropped
    arms = tuple(dataclasses.replace(a, factors=tuple(f for f in a.factors if f[0] == "drug"))
                 for a in trial.protocol.arms)
    assert all(isinstance(a, Arm) and len(a.factors) == 1 for a in arms)
    one = dataclasses.replace(trial, protocol=dataclasses.replace(trial.protocol, arms=arms))
    skipped, kept, saved = [], [], []
    out = _factorial_part(AnalysisContext(one), kept.append,
                          lambda *a: saved.append(a), skipped)  # fmt: skip
    assert out is None and not kept and not saved
    assert [str(s) for s in skipped] == [
        "Factorial analysis: the arms declare 1 factor(s) (drug); the factorial table and "
        "figures are for two"]


def test_a_trial_without_factors_has_no_factorial_part(sample_trial):
    skipped, kept = [], []
    assert _factorial_part(AnalysisContext(sample_trial), kept.append, None, skipped) is None
    assert skipped == [] and kept == []


def test_hazard_ratios_against_an_arm_without_relapse_are_not_estimable(report):
    # no relapse in the midazolam arms (the reference, midazolam + stretching, included):
    # the Cox likelihood has no maximum, so no number is printed (not 2e9 with CI 0 to inf)
    result, page = report
    survival = result.tables["table4_survival"]
    events = survival.data[survival.data["kind"] == "median"].set_index("group")["events"]
    assert events["MID_STR"] == events["MID_AEX"] == 0 and events["KET_AEX"] > 0
    hr = survival.data[survival.data["kind"] == "hazard ratio"]
    assert hr["group"].tolist() == ["KET_AEX - MID_STR", "KET_STR - MID_STR",
                                    "MID_AEX - MID_STR"]
    assert hr[["estimate", "ci_low", "ci_high", "p_value"]].isna().all().all()
    assert survival.display["Hazard ratio (95% CI)"].tolist()[1:] == ["not estimable"] * 3
    assert "Time to relapse: hazard ratio" not in page and " to inf)" not in page


def test_four_arm_mmrm_and_endpoint_tables_are_long(trial, report):
    """Four arms: Table 2 and the endpoint table have one row per visit (endpoint) and arm,
    five columns whatever the number of arms; each arm's difference (risk difference, NNT)
    from the reference is on its row, the reference's own row blank, the numbers those of
    the tidy data."""
    result, _ = report
    arms = [a.code for a in trial.protocol.arms]
    labels = {a.code: a.label or a.code for a in trial.protocol.arms}
    mmrm = result.tables["table2_mmrm"]
    assert list(mmrm.display.columns) == ["Visit", "Arm", "LS mean (SE)",
                                          "Difference (95% CI)", "p"]  # fmt: skip
    reference = mmrm.data.loc[mmrm.data["kind"] == "lsmean", "arm"].iloc[0]
    order = list(dict.fromkeys(mmrm.data.loc[mmrm.data["kind"] == "lsmean", "arm"]))
    assert len(mmrm.display) == len(VISITS) * 4
    assert mmrm.display["Arm"].tolist() == [labels[a] for a in order] * len(VISITS)
    assert [v.rstrip("*") for v in mmrm.display["Visit"] if v] == list(VISITS)
    differences = mmrm.data[mmrm.data["kind"] == "difference"].set_index(["visit", "arm"])
    for i, row in mmrm.display.iterrows():
        visit, arm = VISITS[i // 4], order[i % 4]
        if arm == reference:
            assert row["Difference (95% CI)"] == row["p"] == ""
        else:
            d = differences.loc[(visit, f"{arm} - {reference}")]
            assert row["Difference (95% CI)"] == (
                f"{d['estimate']:.1f} ({d['ci_low']:.1f} to {d['ci_high']:.1f})")
    endpoints = result.tables["table3_endpoints"]
    assert list(endpoints.display.columns) == ["Endpoint", "Arm", "n/N (%) [95% CI]",
                                               "Risk difference (95% CI)", "NNT"]  # fmt: skip
    n = endpoints.data["endpoint"].nunique()
    assert len(endpoints.display) == 4 * n and set(endpoints.display["Arm"]) == {
        labels[a] for a in arms}
    first = endpoints.display.iloc[0::4]
    assert (first["Risk difference (95% CI)"] == "").all() and (first["NNT"] == "").all()
    assert (endpoints.display.drop(first.index)["NNT"] != "").all()


@needs_chromium
def test_every_four_arm_table_fits_the_page_width_in_chromium(report, tmp_path):
    result, _ = report
    overflow = table_overflow(result.html, tmp_path)
    assert any(caption.startswith("Table 2. ") for caption, _ in overflow)
    assert any(caption.startswith("Table 3. ") for caption, _ in overflow)
    assert {caption: px for caption, px in overflow if px > 0.5} == {}
