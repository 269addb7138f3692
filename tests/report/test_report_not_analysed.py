"""``ketex report`` never shows a traceback (issue 18).

A part that cannot be analysed on a valid study (a model that does not converge, a design
the data cannot estimate, an error inside ketex) is left out with its reason in the
report's "Not analysed" list and the rest is written; the command exits 1 only for errors
of the input, with one line on stderr.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

import pytest

import ketex
from ketex.cli import main
from ketex.errors import ConvergenceError
from ketex.report import run
from ketex.report.run import ReportOptions, write_report

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
OPTIONS = dict(table_formats=("csv",), figure_formats=("png",), png_dpi=40, html_dpi=30,
               subgroups=("sex",))
SMALL_FIGURES = pytest.mark.filterwarnings(
    "ignore:constrained_layout not applied:UserWarning")  # 4 participants at 30 dpi


def _not_analysed(page: str) -> list[str]:
    section = page[page.index('id="not-analysed"'):]
    section = section[:section.index("</section>")]
    return [html.unescape(p.split("</p>")[0]) for p in section.split("<p>")[1:]]


@pytest.fixture(scope="module")
def failing_report(sample_trial, tmp_path_factory):
    """The sample's report with the forest plot's MMRMs not converging and a bug in the
    swimmer plot."""
    def no_convergence(*args, **kwargs):
        raise ConvergenceError("the subgroup MMRM did not converge (monkeypatched)")

    def bug(*args, **kwargs):
        raise TypeError("unsupported operand (monkeypatched)")

    out = tmp_path_factory.mktemp("failing")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run.analysis, "subgroup_effects", no_convergence)
        patch.setattr(run.fg, "plot_swimmer", bug)
        result = write_report(sample_trial, out, options=ReportOptions(**OPTIONS))
    return result, result.html.read_text(encoding="utf-8")


def test_a_failing_analysis_is_listed_with_its_reason(failing_report):
    _, page = failing_report
    listed = _not_analysed(page)
    assert ("Subgroup forest plot: the subgroup MMRM did not converge "
            "(monkeypatched)") in listed
    assert ("Swimmer plot: TypeError: unsupported operand (monkeypatched) (an error "
            "inside ketex, not in the data; please report it)") in listed


def test_the_rest_of_the_report_is_written(failing_report):
    result, page = failing_report
    figures = {p.stem for p in result.files if p.parent.name == "figures"}
    assert "figure4_subgroups" not in figures and "figure5_swimmer" not in figures
    assert {"figure1_trajectories", "figure2_individual", "figure6_consort"} <= figures
    assert {"table1_baseline", "table2_mmrm"} <= set(result.tables)
    assert "Primary endpoint, MADRS change from baseline at WEEK12 (MMRM)" in page
    assert "Traceback" not in page


@SMALL_FIGURES
def test_a_valid_study_whose_primary_mmrm_cannot_be_estimated_gets_a_report(
        tmp_path, monkeypatch, capsys):
    """The four-participant study validates cleanly, but no SERIES participant has a
    WEEK4 rating: the primary MMRM's design is rank deficient (a raw traceback before)."""
    assert ketex.load_trial(MINI).report.empty
    monkeypatch.setattr(run, "ReportOptions", functools.partial(ReportOptions, **OPTIONS))
    out = tmp_path / "out"
    assert main(["report", str(MINI), "--out", str(out)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    page = (out / "report.html").read_text(encoding="utf-8")
    listed = _not_analysed(page)
    assert any(line.startswith("Primary analysis (MMRM): The fixed-effects design "
                               "is rank deficient") and "ARM[T.SERIES]:AVISIT[T.WEEK4]" in line
               for line in listed), listed
    assert ("Mean trajectories (figure): it shows the primary analysis, which was not "
            "analysed") in listed
    assert "Primary analysis (study.toml [analysis.primary]): not analysed" in page
    assert (out / "tables" / "table1_baseline.csv").exists()


def test_invalid_data_is_one_line_and_exit_1(tmp_path, mini_folder, capsys):
    (mini_folder / "participants.csv").write_text("participant_id,arm\nP1,NOPE\n")
    assert main(["report", str(mini_folder), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("ketex: ") and "error(s) in" in err and "the first: " in err
    assert f"Run `ketex validate {mini_folder}` for the full list." in err
    assert not (tmp_path / "out" / "report.html").exists()


def test_a_plan_error_is_one_line_and_exit_1(mini_folder, capsys):
    toml = mini_folder / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[analysis.primary]\n'
                    'visits = ["WEEK2", "WEEK99"]\nformula = "CHG ~ BASE + SMOKER + ARM"\n',
                    encoding="utf-8")
    assert main(["report", str(mini_folder), "--out", str(mini_folder / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "visit 'WEEK99' is not among [[visits]]" in err


@SMALL_FIGURES
def test_an_error_outside_every_part_is_one_line(mini_folder, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise KeyError("html")

    monkeypatch.setattr(run, "render_html", broken)
    monkeypatch.setattr(run, "ReportOptions", functools.partial(ReportOptions, **OPTIONS))
    assert main(["report", str(MINI), "--out", str(mini_folder / "out")]) == 1
    err = capsys.readouterr().err  # the progress bar's lines, then one line
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("ketex: the report could not be written: KeyError")

