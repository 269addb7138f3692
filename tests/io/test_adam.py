"""write_adam: CSV and XPORT files, and a define table that describes every variable."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from ketex.io.adam import DEFINE_COLUMNS, adsl, write_adam
from tests.conftest import MINI

pyreadstat = pytest.importorskip("pyreadstat")


@pytest.fixture(scope="module")
def mini_adam(tmp_path_factory):
    trial = ketex.load_trial(MINI)
    folder = tmp_path_factory.mktemp("adam")
    return trial, folder, write_adam(trial, folder, xpt=True)


def test_files_written(mini_adam):
    _, folder, written = mini_adam
    assert sorted(written) == ["adqs.csv", "adqs.xpt", "adsl.csv", "adsl.xpt", "adtte.csv",
                               "adtte.xpt", "adtte_excluded.csv", "define.csv"]
    assert all(path.parent == folder for path in written.values())


def test_adsl_one_row_per_participant(mini_adam):
    trial, folder, _ = mini_adam
    table = pd.read_csv(folder / "adsl.csv")
    assert table["USUBJID"].tolist() == ["M01", "M02", "M03", "M04"]
    assert table["ARM"].tolist() == ["SINGLE", "SERIES", "SINGLE", "SERIES"]
    assert table["TRT01P"].iloc[0] == "Single ketamine infusion + exercise"
    # every mini participant has an infusion; M03 is on a beta-blocker
    assert set(table["SAFFL"]) == {"Y"}
    assert table["BBLOCKFL"].tolist() == ["N", "N", "Y", "N"]
    assert "education_years" in table.columns  # extra columns are kept


def test_adqs_stacks_every_rated_scale(mini_adam):
    _, folder, _ = mini_adam
    table = pd.read_csv(folder / "adqs.csv")
    assert set(table["PARAMCD"]) == {"MADRS", "QIDSSR16"}
    madrs = table[(table["PARAMCD"] == "MADRS") & (table["ANL01FL"] == "Y")]
    # mini visits: BASELINE, INF1_24H, INF2_24H (SERIES only), WEEK2, WEEK4
    assert madrs.groupby("USUBJID").size().to_dict() == {"M01": 4, "M02": 5, "M03": 4,
                                                          "M04": 5}


def test_define_describes_every_variable(mini_adam):
    _, folder, _ = mini_adam
    define = pd.read_csv(folder / "define.csv")
    assert list(define.columns) == list(DEFINE_COLUMNS)
    for name in ("adsl", "adqs", "adtte"):
        columns = pd.read_csv(folder / f"{name}.csv", nrows=0).columns.tolist()
        described = define.loc[define["dataset"] == name.upper(), "variable"].tolist()
        assert described == columns
    assert (define["xpt_name"].str.len() <= 8).all()
    assert (define["label"].str.len() <= 40).all()
    assert define["description"].notna().all()
    row = define[(define["dataset"] == "ADSL") & (define["variable"] == "education_years")]
    assert row["xpt_name"].item() == "EDUCATIO"


@pytest.mark.parametrize("name", ["adsl", "adqs", "adtte"])
def test_xport_matches_csv(mini_adam, name):
    _, folder, _ = mini_adam
    csv = pd.read_csv(folder / f"{name}.csv")
    xpt, meta = pyreadstat.read_xport(str(folder / f"{name}.xpt"))
    define = pd.read_csv(folder / "define.csv")
    define = define[define["dataset"] == name.upper()]
    assert meta.table_name == name.upper()
    assert list(xpt.columns) == define["xpt_name"].tolist()
    assert meta.column_labels == define["label"].tolist()
    assert len(xpt) == len(csv)
    for variable, xpt_name, kind in zip(define["variable"], define["xpt_name"],
                                        define["type"], strict=True):
        if kind in ("integer", "number"):
            pd.testing.assert_series_equal(xpt[xpt_name].astype(float),
                                           csv[variable].astype(float), check_names=False)


def test_adsl_function_and_bad_folder(tmp_path):
    trial = ketex.load_trial(MINI)
    assert adsl(trial)["USUBJID"].tolist() == ["M01", "M02", "M03", "M04"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="is not a folder"):
        write_adam(trial, blocker)
