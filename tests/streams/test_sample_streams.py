"""The bundled sample's streams/ folder: loaded with the trial, agreeing with exercise.csv."""

import shutil

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.streams.write import write_streams


@pytest.fixture(scope="module")
def sample():
    return ketex.load_trial(ketex.sample_study_path())


def test_sample_has_streams_for_eight_participants_without_problems(sample):
    sessions = sample.streams.sessions
    assert sessions["participant_id"].nunique() == 8
    assert set(sample.participants.set_index("participant_id").loc[
        sessions["participant_id"].unique(), "arm"]) == {"SINGLE", "SERIES"}
    assert (sessions["day"] <= 28).all() and len(sessions) > 60
    assert not (sample.report["table"] == "streams").any()
    kinds = sessions["file"].str.rsplit(".", n=1).str[1].value_counts().to_dict()
    assert kinds["fit"] == 2 and kinds["parquet"] == len(sessions) - 2


def test_every_sample_stream_agrees_with_its_exercise_row(sample):
    rows = sample.exercise.set_index(["participant_id", "day"])
    for row, stream in sample.streams.iter_sessions():
        summary = rows.loc[(row["participant_id"], int(row["day"]))]
        assert row["duration_min"] == summary["duration_min"]
        held = stream.iloc[1:]  # the first record marks the start
        assert abs(held["heart_rate_bpm"].mean() - summary["avg_hr"]) < 0.5
        assert abs(held["power_w"].mean() - summary["watts"]) < 0.5
        assert (stream["timestamp"].dt.tz_convert(None).dt.normalize().iloc[0]
                - sample.participants.set_index("participant_id").loc[
                    row["participant_id"], "randomization_date"]).days == row["day"]


def test_fit_parquet_and_csv_write_the_same_stream(sample, tmp_path):
    stream = sample.streams.read("P001")
    stream = stream[stream["session_id"].isin(["day003", "day005", "day008"])
                    & (stream["elapsed_s"] <= 300)]  # fit-tool writes ~1000 records/s
    write_streams(stream, tmp_path / "s", fit=[("P001", "day003")], csv=[("P001", "day005")])
    back = ketex.read_streams(tmp_path / "s")
    columns = ["participant_id", "session_id", "day", "elapsed_s", "timestamp",
               "heart_rate_bpm", "power_w"]
    pd.testing.assert_frame_equal(back[columns], stream[columns].reset_index(drop=True))
    assert set(back["source_file"].str.rsplit(".", n=1).str[1]) == {"fit", "csv", "parquet"}


def test_parquet_of_the_sample_is_small(sample):
    folder = ketex.sample_study_path() / "streams"
    sizes = [p.stat().st_size for p in folder.rglob("*.parquet")]
    records = sample.streams.sessions["n_records"].sum()
    assert sum(sizes) / records < 2.0  # bytes a record: delta-encoded, zstd


def test_write_streams_without_clock_times_writes_elapsed_seconds(tmp_path):
    table = pd.DataFrame({"participant_id": "P01", "session_id": "S1", "day": 3,
                          "elapsed_s": np.arange(5.0), "heart_rate_bpm": [120.0, 121, np.nan,
                                                                         123, 124]})
    write_streams(table, tmp_path / "s")
    back = ketex.read_streams(tmp_path / "s")
    assert back["elapsed_s"].tolist() == [0.0, 1, 2, 3, 4]
    assert back["heart_rate_bpm"].isna().tolist() == [False, False, True, False, False]
    with pytest.raises(ketex.KetexError, match="FIT needs clock times"):
        write_streams(table, tmp_path / "t", fit=[("P01", "S1")])
    shutil.rmtree(tmp_path / "s")
