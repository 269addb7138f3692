"""load_trial reads a study folder's streams/ folder: every recording checked against the
trial (participant, exercise day, HRmax), problems reported with file and record, the
good recordings indexed and read on demand."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import ketex
from ketex.errors import DataValidationError

FIT = Path(__file__).resolve().parents[1] / "reference" / "streams" / "garmin-edge-820-bike.fit"


def csv_stream(times, hr):
    rows = "".join(f"{t},{h}\n" for t, h in zip(times, hr, strict=True))
    return "elapsed_s,heart_rate_bpm\n" + rows


@pytest.fixture()
def study(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(ketex.sample_study_path(), folder, ignore=shutil.ignore_patterns("streams"))
    (folder / "streams").mkdir()
    return folder


def write(folder, manifest, files):
    for name, text in files.items():
        target = folder / "streams" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
    (folder / "streams" / "manifest.csv").write_text(manifest, encoding="utf-8")


def test_good_recordings_are_indexed_and_read_on_demand(study):
    write(study, "file,participant_id,day,session_id\n"
                 "P001/d3.csv,P001,3,S1\nP001/d5.fit,P001,5,\nP002.csv,P002,3,S1\n",
          {"P001/d3.csv": csv_stream([0, 1, 2, 3], [120, 130, 131, 135]),
           "P001/d5.fit": FIT.read_bytes(),
           "P002.csv": csv_stream([0, 1], [110, 111])})  # fmt: skip
    trial = ketex.load_trial(study)
    sessions = trial.streams.sessions
    assert list(sessions.columns) == list(ketex.streams.SESSION_COLUMNS)
    assert list(sessions["session_id"]) == ["S1", "P001/d5.fit", "S1"]  # empty: the file
    assert list(sessions["n_records"]) == [4, 15, 2]
    assert list(sessions["duration_min"]) == pytest.approx([3 / 60, 65 / 60, 1 / 60])
    assert sessions["start_time"].iloc[1] == pd.Timestamp("2017-06-12 16:10:15", tz="UTC")
    assert len(trial.streams) == 3
    one = trial.streams.read("P001")
    assert len(one) == 19 and set(one["session_id"]) == {"S1", "P001/d5.fit"}
    whole = trial.streams.read()
    expected = ketex.read_streams(study / "streams")
    pd.testing.assert_frame_equal(whole, expected)
    seen = [(row["participant_id"], len(stream)) for row, stream in trial.streams.iter_sessions()]
    assert seen == [("P001", 4), ("P001", 15), ("P002", 2)]
    assert trial.streams.read("P999").empty
    # the FIT ride was recorded on 2017-06-12, P001 randomised on 2024-01-14: day -2407
    mismatch = trial.report[trial.report["rule"] == "stream_day_mismatch"]
    assert list(mismatch["line"]) == [3] and list(mismatch["value"]) == ["5"]
    assert "starts on 2017-06-12 16:10 UTC, study day -2407" in mismatch["message"].iloc[0]
    # the FIT file's 5-10 s intervals (smart recording) are reported, not hidden
    gaps = trial.report[trial.report["rule"] == "stream_gap"]
    assert len(gaps) and gaps["source_file"].str.endswith("d5.fit").all()


def test_every_problem_is_reported_with_file_and_record(study):
    # P001 is 27, no measured max_hr: HRmax = 208 - 0.7 x 27 = 189.1, spikes above 209.1
    write(study, "file,participant_id,day\n"
                 "ok.csv,P001,3\n"          # dropout 2 s, spike, gap: warnings only
                 "ghost.csv,P999,3\n"       # unknown participant
                 "absent.csv,P001,5\n"      # missing file
                 "rest.csv,P001,4\n"        # no exercise session on day 4: kept
                 "jump.csv,P002,3\n"        # clock goes back: error
                 "cut.fit,P002,5\n",        # truncated: error
          {"ok.csv": csv_stream([0, 1, 2, 3, 4, 5, 15, 16],
                                [120, 0, 0, 125, 215, 130, 131, 132]),
           "ghost.csv": csv_stream([0, 1], [100, 100]),
           "rest.csv": csv_stream([0, 1], [100, 101]),
           "jump.csv": csv_stream([0, 1, 2, 1, 3], [100, 101, 102, 103, 104]),
           "cut.fit": FIT.read_bytes()[:2000]})  # fmt: skip
    with pytest.raises(DataValidationError, match="error") as caught:
        ketex.load_trial(study)
    report = caught.value.report
    rows = report[report["table"] == "streams"]
    found = {(r.rule, Path(str(r.source_file)).name, r.line, r.severity)
             for r in rows.itertuples()}  # fmt: skip
    assert found == {
        ("unknown_participant", "manifest.csv", 3, "error"),
        ("missing_file", "manifest.csv", 4, "error"),
        ("no_exercise_session", "manifest.csv", 5, "warning"),
        ("clock_jump", "jump.csv", 3, "error"),
        ("unreadable_stream", "cut.fit", pd.NA, "error"),
        ("hr_dropout", "ok.csv", 1, "warning"),
        ("hr_spike", "ok.csv", 4, "warning"),
        ("stream_gap", "ok.csv", 6, "warning"),
    }
    message = rows.set_index("rule")["message"]
    assert "records 1-2: heart rate 0 or missing for 2 s" in message["hr_dropout"]
    assert "up to 215 bpm, above HRmax 189.1 + 20" in message["hr_spike"]
    assert "no record for 10 s" in message["stream_gap"]
    assert "cut.fit: ends early (truncated) after record" in message["unreadable_stream"]
    assert rows["participant_id"].notna().all()

    # drop: the trial loads without the recordings in error, every problem listed
    trial = ketex.load_trial(study, on_error="drop")
    assert list(trial.streams.sessions["file"]) == ["ok.csv", "rest.csv"]
    assert set(trial.report["rule"]) >= {r[0] for r in found}
    load = ketex.training_load(trial.streams.read("P001"), hr_rest=78, hr_max=189.1, sex="f")
    assert list(load["n_dropout_s"]) == [2.0, 0.0] and list(load["n_spike_s"]) == [1.0, 0.0]
    assert list(load["n_gap_s"]) == [10.0, 0.0]


def test_a_clock_a_day_off_is_allowed_two_days_is_not(study):
    # P001 randomised 2024-01-14; day 3 = 2024-01-17
    rows = {"late.csv": "2024-01-18T01:30:00Z", "far.csv": "2024-01-19T10:00:00Z"}
    files = {name: f"timestamp,heart_rate_bpm\n{at},120\n" for name, at in rows.items()}
    write(study, "file,participant_id,day,session_id\nlate.csv,P001,3,A\nfar.csv,P001,3,B\n",
          files)
    trial = ketex.load_trial(study)
    found = trial.report[trial.report["rule"] == "stream_day_mismatch"]
    assert list(found["line"]) == [3] and "study day 5" in found["message"].iloc[0]
    assert len(trial.streams) == 2  # a warning: kept


def test_table_and_stream_errors_come_in_one_report(study):
    people = study / "participants.csv"
    people.write_text(people.read_text(encoding="utf-8").replace("P002,SERIES", "P002,NOPE"),
                      encoding="utf-8")  # fmt: skip
    write(study, "file,participant_id,day\na.csv,P002,3\n", {"a.csv": csv_stream([0], [99])})
    with pytest.raises(DataValidationError) as caught:
        ketex.load_trial(study)
    rules = set(caught.value.report["rule"])
    assert {"unknown_arm", "unknown_participant"} <= rules  # the rejected P002's recording


def test_a_streams_folder_without_a_manifest(study):
    (study / "streams" / "a.csv").write_text(csv_stream([0], [99]), encoding="utf-8")
    with pytest.raises(DataValidationError, match="has no manifest.csv"):
        ketex.load_trial(study)
    trial = ketex.load_trial(study, on_error="drop")
    assert len(trial.streams) == 0
    with pytest.raises(ValueError, match="on_error must be one of"):
        ketex.load_trial(study, on_error="ignore")


def test_a_trial_without_streams_has_none():
    assert ketex.load_trial(ketex.sample_study_path(study="factorial")).streams is None
