"""The report's training-load table (device streams), worked by hand on one recording."""

import dataclasses
import shutil

import numpy as np
import pytest

import ketex
from ketex.report.stream_section import stream_load_part, stream_load_table

STEP = [120] + [120] * 300 + [130] * 600 + [150] * 300  # 5 min below, 10 in, 5 above zone


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("load") / "study"
    shutil.copytree(ketex.sample_study_path(), folder, ignore=shutil.ignore_patterns("streams"))
    (folder / "streams").mkdir()
    rows = "".join(f"{t},{h},100\n" for t, h in enumerate(STEP))
    (folder / "streams" / "a.csv").write_text("elapsed_s,heart_rate_bpm,power_w\n" + rows)
    (folder / "streams" / "manifest.csv").write_text("file,participant_id,day\na.csv,P001,3\n")
    return ketex.load_trial(folder)


def test_one_recording_by_hand(trial):
    table = stream_load_table(trial)
    data = table.data.set_index(["measure", "arm"])
    attended = ketex.exercise_dose(trial, "session")
    attended = attended[attended["counted"] & (attended["arm"] == "SINGLE")]
    assert data.loc[("participants", "SINGLE"), ["n", "of"]].tolist() == [1, 40]
    assert data.loc[("sessions", "SINGLE"), ["n", "of"]].tolist() == [1, len(attended)]
    assert data.loc[("participants", "SERIES"), "n"] == 0
    assert data.loc[("minutes", "SINGLE"), "estimate"] == pytest.approx(20.0)
    assert np.isnan(data.loc[("minutes", "SINGLE"), "sd"])  # one session: no SD
    # P001: female, resting 78, HRmax 189.1; Edwards 2 x 5 + 2 x 10 + 3 x 5
    assert data.loc[("trimp_edwards", "SINGLE"), "estimate"] == pytest.approx(45.0)
    hrr = (np.array([120, 130, 150]) - 78) / (189.1 - 78)
    banister = (np.array([5, 10, 5]) * hrr * 0.86 * np.exp(1.67 * hrr)).sum()
    assert data.loc[("trimp_banister", "SINGLE"), "estimate"] == pytest.approx(banister)
    assert data.loc[("work_kj", "SINGLE"), "estimate"] == pytest.approx(120.0)
    # 10 of 20 minutes in zone; by its mean (133 bpm, inside) all 45 summary minutes
    assert data.loc[("zone_stream", "SINGLE"), "estimate"] == pytest.approx(0.5)
    assert data.loc[("zone_summary", "SINGLE"), "estimate"] == 1.0
    assert data.loc[("zone_difference", "SINGLE"), "estimate"] == pytest.approx(-0.5)
    assert np.isnan(data.loc[("zone_stream", "SERIES"), "estimate"])
    shown = table.display.set_index("")
    assert shown.loc["Minutes in prescribed zone, % (second by second)"].tolist() == ["50.0", "-"]
    assert shown.loc["Difference, percentage points"].iloc[0] == "-50.0"
    assert table.name == "table6_stream_load"


def test_the_part_without_streams_or_exercise(trial):
    kept = []
    factorial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    (reason,) = stream_load_part(factorial, kept.append)
    assert "no streams/ folder" in reason.reason and kept == []
    no_exercise = dataclasses.replace(factorial, exercise=factorial.exercise.iloc[0:0])
    assert stream_load_part(no_exercise, kept.append) == [] and kept == []
    assert stream_load_part(trial, kept.append) == [] and len(kept) == 1
