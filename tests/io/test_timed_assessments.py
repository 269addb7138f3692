"""assessments.time_min: CADSS and BPRS at minutes after an infusion are distinct ratings,
checked for duplicates with the minute, and kept through every form (folder, workbook,
REDCap, SDTM QS with QSTPT/QSTPTNUM/QSELTM)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import ketex
from ketex.errors import DataValidationError
from tests.conftest import MINI

# M01's first infusion is on day 1: CADSS before it and at 40, 120, 240 min; BPRS+ by item
TIMED = [
    ("M01", 1, "INF1_24H", "CADSS", -10, 0, None),
    ("M01", 1, "INF1_24H", "CADSS", 40, 22, None),
    ("M01", 1, "INF1_24H", "CADSS", 120, 6, None),
    ("M01", 1, "INF1_24H", "CADSS", 240, 1, None),
    ("M01", 1, "INF1_24H", "BPRS-POSITIVE", -10, None, (1, 1, 1, 1)),
    ("M01", 1, "INF1_24H", "BPRS-POSITIVE", 40, None, (2, 3, 1, 2)),
]


def _write(folder, rows=TIMED):
    path = folder / "assessments.csv"
    frame = pd.read_csv(path)
    extra = []
    for pid, day, visit, instrument, minute, total, items in rows:
        row = {"participant_id": pid, "day": day, "visit": visit, "instrument": instrument,
               "time_min": minute, "total": total}
        row.update({f"item_{k}": v for k, v in enumerate(items or (), start=1)})
        extra.append(row)
    pd.concat([frame, pd.DataFrame(extra)], ignore_index=True).to_csv(path, index=False)
    return folder


@pytest.fixture(scope="module")
def timed_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("timed") / "study"
    shutil.copytree(MINI, folder)
    return _write(folder)


@pytest.fixture(scope="module")
def trial(timed_folder):
    return ketex.load_trial(timed_folder)


def test_ratings_at_each_minute_are_distinct(trial):
    cadss = trial.assessments[trial.assessments["instrument"] == "CADSS"]
    assert cadss["time_min"].tolist() == [-10, 40, 120, 240]
    assert cadss["total"].tolist() == [0, 22, 6, 1]
    bprs = trial.assessments[trial.assessments["instrument"] == "BPRS-POSITIVE"]
    assert bprs["total"].tolist() == [4, 8]  # from the items
    visits = trial.assessments[trial.assessments["instrument"] == "MADRS"]
    assert visits["time_min"].isna().all()


def test_duplicate_at_the_same_minute_is_an_error(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(MINI, folder)
    _write(folder, TIMED + [("M01", 1, "INF1_24H", "CADSS", 120, 7, None)])
    with pytest.raises(DataValidationError) as caught:
        ketex.load_trial(folder)
    errors = caught.value.errors
    assert errors["rule"].tolist() == ["duplicate_assessment"]
    assert "CADSS at visit INF1_24H on day 1 at 120 min (line 17)" in errors["message"].iloc[0]
    assert errors["message"].iloc[0].startswith("assessments.csv line 21:")


def test_untimed_duplicates_are_still_found(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(MINI, folder)
    _write(folder, TIMED + [("M01", 14, "WEEK2", "MADRS", None, 12, None)])
    with pytest.raises(DataValidationError) as caught:
        ketex.load_trial(folder)
    message = caught.value.errors["message"].iloc[0]
    assert "already has a MADRS at visit WEEK2 on day 14 (line 5)" in message


def test_minutes_more_than_a_day_from_the_infusion_are_an_error(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(MINI, folder)
    _write(folder, [("M01", 1, "INF1_24H", "CADSS", 2000, 3, None)])
    with pytest.raises(DataValidationError) as caught:
        ketex.load_trial(folder)
    assert caught.value.errors[["column", "rule"]].values.tolist() == [
        ["time_min", "out_of_range"]]


def test_samples_have_no_time_column():
    sample = ketex.load_trial(ketex.sample_study_path())
    assert "time_min" not in sample.assessments.columns


def test_folder_workbook_and_redcap_keep_the_minutes(trial, tmp_path):
    ketex.write_trial(trial, tmp_path / "folder")
    assert not trial.differences(ketex.load_trial(tmp_path / "folder"))
    ketex.write_excel(trial, tmp_path / "trial.xlsx")
    assert not trial.differences(ketex.load_trial(tmp_path / "trial.xlsx"))
    files = ketex.write_redcap(trial, tmp_path / "redcap")
    back = ketex.load_redcap(files["records"], files["dictionary"], files["mapping"])
    assert not trial.differences(back)


def test_sdtm_qs_time_points(trial, timed_folder, tmp_path):
    ketex.write_sdtm(trial, tmp_path)
    qs = pd.read_csv(tmp_path / "qs.csv")
    cadss = qs[qs["QSCAT"] == "CADSS"]
    assert cadss["QSTESTCD"].unique().tolist() == ["CADSSTOT"]
    assert cadss["QSTPTNUM"].tolist() == [-10, 40, 120, 240]
    assert cadss["QSTPT"].tolist() == ["10 MIN BEFORE INFUSION START",
                                       "40 MIN AFTER INFUSION START",
                                       "120 MIN AFTER INFUSION START",
                                       "240 MIN AFTER INFUSION START"]
    assert cadss["QSELTM"].str.lstrip("'").tolist() == ["-PT10M", "PT40M", "PT120M",
                                                        "PT240M"]
    assert set(cadss["QSTPTREF"]) == {"INFUSION START"}
    bprs = qs[qs["QSCAT"] == "BPRS POSITIVE"]
    assert bprs["QSTESTCD"].tolist()[:5] == ["BPRSP01", "BPRSP02", "BPRSP03", "BPRSP04",
                                             "BPRSPTOT"]
    assert qs.loc[qs["QSCAT"] == "MADRS", "QSTPTNUM"].isna().all()
    back = ketex.load_sdtm(tmp_path, protocol=timed_folder / "study.toml")
    assert not trial.differences(back)


def test_sdtm_reader_takes_qstptnum_without_qseltm(trial, timed_folder, tmp_path):
    ketex.write_sdtm(trial, tmp_path)
    qs = pd.read_csv(tmp_path / "qs.csv").drop(columns=["QSELTM"])
    qs.to_csv(tmp_path / "qs.csv", index=False)
    back = ketex.load_sdtm(tmp_path, protocol=timed_folder / "study.toml")
    assert not trial.differences(back)


def test_sdtm_reader_refuses_a_bad_elapsed_time(trial, timed_folder, tmp_path):
    ketex.write_sdtm(trial, tmp_path)
    qs = pd.read_csv(tmp_path / "qs.csv")
    qs.loc[qs["QSTPTNUM"] == 40, "QSELTM"] = "40 minutes"
    qs.to_csv(tmp_path / "qs.csv", index=False)
    with pytest.raises(DataValidationError) as caught:
        ketex.load_sdtm(tmp_path, protocol=timed_folder / "study.toml")
    errors = caught.value.errors
    assert set(errors["rule"]) == {"bad_duration"} and set(errors["column"]) == {"QSELTM"}
