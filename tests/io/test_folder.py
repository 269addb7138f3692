"""Study folders (CSV, Parquet), workbooks, and the problems only files can have."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from tests.conftest import MINI


@pytest.fixture(scope="module")
def mini():
    return ketex.load_trial(MINI)


def test_mini_study_loads_in_canonical_form(mini):
    assert (len(mini.participants), len(mini.infusions), len(mini.exercise),
            len(mini.assessments), len(mini.events)) == (4, 7, 7, 13, 2)
    assert str(mini.infusions["day"].dtype) == "Int64"
    assert str(mini.participants["randomization_date"].dtype) == "datetime64[ns]"
    assert mini.participants["beta_blocker"].tolist() == [False, False, True, False]
    assert list(mini.assessments.columns[:5]) == [
        "participant_id", "day", "visit", "instrument", "total"]
    # totals computed from items; the WEEK4 total was given without items
    assert mini.assessments["total"].tolist()[:5] == pytest.approx(
        [32, 15, 16, 14 / 9 * 10, 18])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_folder_round_trip(mini, tmp_path, fmt):
    ketex.write_trial(mini, tmp_path, format=fmt)
    assert mini.differences(ketex.load_trial(tmp_path)) == []


def test_workbook_round_trip_with_study_sheet(mini, tmp_path):
    path = ketex.write_excel(mini, tmp_path / "mini.xlsx")
    assert mini.differences(ketex.load_trial(path)) == []


def test_workbook_with_study_toml_beside_it(mini, tmp_path):
    import openpyxl

    path = ketex.write_excel(mini, tmp_path / "mini.xlsx")
    book = openpyxl.load_workbook(path)
    del book["study"]
    book.save(path)
    (tmp_path / "study.toml").write_text((MINI / "study.toml").read_text())
    assert mini.differences(ketex.load_trial(path)) == []


def test_workbook_rows_are_sheet_rows(mini, tmp_path):
    import openpyxl

    path = ketex.write_excel(mini, tmp_path / "mini.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["exercise"]
    sheet.insert_rows(3)  # a blank row: the records below move down one row
    header = [c.value for c in sheet[1]]
    sheet.cell(row=5, column=header.index("duration_min") + 1, value="soon")
    book.save(path)
    trial = ketex.load_trial(path, on_error="drop")
    row = trial.report[trial.report["rule"] == "non_numeric"].iloc[0]
    assert (row["source_file"], row["line"], row["value"]) == ("mini.xlsx[exercise]", 5, "soon")


def test_blank_lines_do_not_shift_line_numbers(mini_folder):
    folder = mini_folder
    path = folder / "events.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "", lines[1], "   ", lines[2].replace("21", "x")]) + "\n")
    trial = ketex.load_trial(folder, on_error="drop")
    assert trial.report["line"].tolist() == [5]


def test_semicolons_and_byte_order_mark(mini_folder):
    folder = mini_folder
    path = folder / "events.csv"
    text = path.read_text().replace(",", ";")
    path.write_bytes("\ufeff".encode() + text.encode())
    assert len(ketex.load_trial(folder).events) == 2


def test_not_utf8(mini_folder):
    folder = mini_folder
    text = "participant_id,day,event\nM01,3,hospitalisé\n"
    (folder / "events.csv").write_bytes(text.encode("latin-1"))
    with pytest.raises(ketex.DataValidationError) as caught:
        ketex.load_trial(folder)
    row = caught.value.report.iloc[0]
    assert (row["source_file"], row["rule"]) == ("events.csv", "bad_encoding")
    assert "Save it as CSV UTF-8" in row["message"]


def test_csv_and_parquet_of_one_table(mini, tmp_path):
    ketex.write_trial(mini, tmp_path)
    mini.events.to_parquet(tmp_path / "events.parquet")
    with pytest.raises(ketex.DataValidationError, match="keep only one of them"):
        ketex.load_trial(tmp_path)


def test_damaged_parquet(mini, tmp_path):
    ketex.write_trial(mini, tmp_path, format="parquet")
    (tmp_path / "events.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ketex.DataValidationError, match="cannot be read as Parquet"):
        ketex.load_trial(tmp_path)


def test_duplicate_header(mini_folder):
    folder = mini_folder
    (folder / "events.csv").write_text("participant_id,day,event,day\nM01,3,other,3\n")
    with pytest.raises(ketex.DataValidationError, match="more than once"):
        ketex.load_trial(folder)


def test_empty_file(mini_folder):
    folder = mini_folder
    (folder / "events.csv").write_text("")
    with pytest.raises(ketex.DataValidationError, match="has no header line"):
        ketex.load_trial(folder)


def test_missing_folder_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        ketex.load_trial(tmp_path / "nowhere")
    tmp_path.joinpath("x").mkdir()
    with pytest.raises(FileNotFoundError):  # no study.toml
        ketex.load_trial(tmp_path / "x")


def test_invalid_protocol_is_a_validation_error(mini_folder):
    folder = mini_folder
    (folder / "study.toml").write_text("[study]\nid = 'X'\n")
    with pytest.raises(ketex.DataValidationError) as caught:
        ketex.load_trial(folder)
    assert caught.value.report["rule"].tolist() == ["bad_protocol"]
    assert "arms: missing" in str(caught.value)


def test_other_files_are_refused(tmp_path):
    path = tmp_path / "trial.csv"
    path.write_text("a\n")
    with pytest.raises(ketex.DataValidationError, match="not an .xlsx workbook"):
        ketex.load_trial(path)


def test_dates_are_written_as_iso(mini, tmp_path):
    ketex.write_trial(mini, tmp_path)
    text = (tmp_path / "participants.csv").read_text()
    assert "2024-01-08," in text and "00:00:00" not in text
    assert pd.read_csv(tmp_path / "participants.csv")["randomization_date"].iloc[0] == "2024-01-08"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", ("events", "events.csv", 1, None, None, None, "empty_file", "error")),
        ("participant_id,day,event\nM01,3,hospitalisé\n".encode("latin-1"),
         ("events", "events.csv", 2, None, "event", "hospitalis\\xe9", "bad_encoding",
          "error")),
        (b"participant_id,day,event,day\nM01,3,other,3\n",
         ("events", "events.csv", 1, None, "day", None, "duplicate_column", "error")),
        (b"participant_id,event\nM01,other\n",
         ("events", "events.csv", None, None, "day", None, "missing_column", "error")),
        (b"participant_id,day,event\nM01,3\n",
         ("events", "events.csv", 2, "M01", None, None, "malformed_row", "error")),
        (b'participant_id,day,event\nM01,3,"other\n',  # a quote never closed
         ("events", "events.csv", 2, None, None, None, "malformed_file", "error")),
    ],
    ids=["empty", "latin-1", "duplicate column", "missing column", "short row", "open quote"],
)
def test_file_level_problems_have_exact_rows(mini_folder, content, expected):
    folder = mini_folder
    (folder / "events.csv").write_bytes(content)
    with pytest.raises(ketex.DataValidationError) as caught:
        ketex.load_trial(folder)
    report = caught.value.report
    columns = ["table", "source_file", "line", "participant_id", "column", "value", "rule",
               "severity"]
    rows = [tuple(None if pd.isna(v) else v for v in r)
            for r in report[columns].itertuples(index=False)]
    assert rows == [expected]
