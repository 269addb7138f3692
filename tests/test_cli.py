from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ketex
from ketex.cli import main
from tests.conftest import edit_cell


def test_summary_of_the_sample(capsys):
    assert main(["summary", str(ketex.sample_study_path())]) == 0
    out = capsys.readouterr().out
    assert "Study KETEX-SAMPLE" in out
    assert "SINGLE" in out and "SERIES" in out and "WEEK12" in out


def test_validate_clean_study_exits_zero(mini_folder, capsys):
    assert main(["validate", str(mini_folder)]) == 0
    assert capsys.readouterr().out.strip().endswith("0 error(s), 0 warning(s)")


def test_validate_lists_problems_and_exits_one(mini_folder, capsys, tmp_path):
    edit_cell(mini_folder / "participants.csv", 3, "arm", "PLACEBO")
    out_csv = tmp_path / "problems.csv"
    assert main(["validate", str(mini_folder), "--out", str(out_csv)]) == 1
    out = capsys.readouterr().out
    assert "participants.csv:3 [arm='PLACEBO'] unknown_arm" in out
    # the row, and M02's 3 infusions, 2 sessions and 4 ratings
    assert "10 error(s), 0 warning(s)" in out
    assert out_csv.read_text().startswith("table,source_file,line,")


def test_validate_invalid_protocol(mini_folder, capsys):
    (mini_folder / "study.toml").write_text("[study]\n")
    assert main(["validate", str(mini_folder), "--format", "csv"]) == 1
    assert "bad_protocol" in capsys.readouterr().out


def test_summary_of_invalid_study_points_to_validate(mini_folder, capsys):
    edit_cell(mini_folder / "participants.csv", 3, "arm", "PLACEBO")
    assert main(["summary", str(mini_folder)]) == 1
    assert "ketex validate" in capsys.readouterr().err


def test_missing_path(tmp_path, capsys):
    assert main(["summary", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_console_script_runs():
    done = subprocess.run(
        [sys.executable, "-m", "ketex.cli", "validate", str(ketex.sample_study_path())],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "0 error(s)" in done.stdout


def test_validate_recognises_redcap_and_sdtm_folders(capsys):
    for form in ("redcap", "sdtm"):
        assert main(["validate", str(ketex.sample_study_path(form))]) == 0
        assert "0 error(s), 1 warning(s)" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"ketex {ketex.__version__}"


def test_report_with_a_plan_naming_a_missing_visit_names_the_key(mini_folder, capsys):
    toml = mini_folder / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8")
                    + '\n[analysis.primary]\nvisits = ["WEEK2", "WEEK99"]\n', encoding="utf-8")
    assert main(["report", str(mini_folder), "--out", str(mini_folder / "out")]) == 1
    err = capsys.readouterr().err
    assert "study.toml: analysis.primary.visits[1]: visit 'WEEK99' is not among [[visits]]" in err


def test_report_with_a_formula_column_the_data_lack_names_the_key(mini_folder, capsys):
    toml = mini_folder / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[analysis.primary]\n'
                    'formula = "CHG ~ BASE + SMOKER + ARM * AVISIT"\n', encoding="utf-8")
    assert main(["report", str(mini_folder), "--out", str(mini_folder / "out")]) == 1
    err = capsys.readouterr().err
    assert "study.toml: analysis.primary.formula: column(s) SMOKER of" in err
    assert "Traceback" not in err


def test_report_options_on_the_command_line_reach_write_report(tmp_path, monkeypatch):
    from ketex.report import run

    seen = {}

    def fake(trial, out, *, options=None, **kwargs):
        seen["options"] = options
        return run.ReportResult(html=Path(out) / "report.html", tables={}, files=())

    monkeypatch.setattr(run, "write_report", fake)
    assert main(["report", str(ketex.sample_study_path()), "--out", str(tmp_path / "r"),
                 "--subgroups", "sex", "site", "--table-formats", "csv", "docx",
                 "--figure-formats", "png", "--png-dpi", "150", "--table-one-pvalues",
                 "--endpoint-missing", "failure"]) == 0
    assert seen["options"] == run.ReportOptions(
        subgroups=("sex", "site"), table_formats=("csv", "docx"), figure_formats=("png",),
        png_dpi=150, table_one_pvalues=True, endpoint_missing="failure")
    assert main(["report", str(ketex.sample_study_path()), "--out", str(tmp_path / "r"),
                 "--subgroups"]) == 0
    assert seen["options"] == run.ReportOptions(subgroups=())
    assert main(["report", str(ketex.sample_study_path()), "--out", str(tmp_path / "r")]) == 0
    assert seen["options"] == run.ReportOptions()


def test_report_option_with_a_bad_format_is_one_line(tmp_path, capsys):
    assert main(["report", str(ketex.sample_study_path()), "--out", str(tmp_path / "r"),
                 "--table-formats", "xls"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ketex: unknown table formats ['xls']") and err.count("\n") == 1
