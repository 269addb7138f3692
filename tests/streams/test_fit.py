"""read_stream on real FIT files (tests/reference/streams/README.md gives their source):
record counts, durations and mean heart rates against the record table shipped with the
file and against fitdecode itself; damaged files raise KetexError naming file and record."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import fitdecode
import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.errors import KetexError

FILES = Path(__file__).resolve().parents[1] / "reference" / "streams"
EDGE = FILES / "garmin-edge-820-bike.fit"
TRAINER = FILES / "sample-activity-indoor-trainer.fit"


def fitdecode_records(path):
    """The record messages as fitdecode itself reports them (no ketex code involved)."""
    out = []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                out.append({f.name: f.value for f in frame.fields})
    return out


def test_edge_820_matches_the_record_table_shipped_with_it():
    with open(FILES / "garmin-edge-820-bike-records.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stamps = [datetime.strptime(r["timestamp"].replace("PDT ", ""), "%a %b %d %H:%M:%S %Y")
              for r in rows]  # fmt: skip
    out = ketex.read_stream(EDGE)
    assert len(out) == len(rows) == 15
    assert out["elapsed_s"].iloc[-1] == (stamps[-1] - stamps[0]).total_seconds() == 65.0
    assert list(out["elapsed_s"]) == [(s - stamps[0]).total_seconds() for s in stamps]
    mean_hr = np.mean([float(r["heart_rate"]) for r in rows])
    assert out["heart_rate_bpm"].mean() == pytest.approx(mean_hr, abs=1e-12)
    assert list(out["cadence_rpm"]) == [float(r["cadence"]) for r in rows]
    assert list(out["speed_m_s"]) == pytest.approx([float(r["speed"]) for r in rows],
                                                   abs=5e-4)  # fmt: skip
    assert list(out["distance_m"]) == pytest.approx([float(r["distance"]) for r in rows],
                                                    abs=5e-3)  # fmt: skip
    assert out["timestamp"].iloc[0] == pd.Timestamp("2017-06-12 16:10:15", tz="UTC")  # PDT+7
    assert out["power_w"].isna().all()
    assert list(out["record_index"]) == list(range(15))


@pytest.mark.parametrize("path", [EDGE, TRAINER], ids=["edge-820", "indoor-trainer"])
def test_fit_reads_what_fitdecode_reports(path):
    reference = fitdecode_records(path)
    out = ketex.read_stream(path)
    assert len(out) == len(reference)
    first, last = reference[0]["timestamp"], reference[-1]["timestamp"]
    assert out["elapsed_s"].iloc[-1] == (last - first).total_seconds()
    hr = [r["heart_rate"] for r in reference if r.get("heart_rate") is not None]
    assert out["heart_rate_bpm"].count() == len(hr)
    assert out["heart_rate_bpm"].mean() == pytest.approx(np.mean(hr), rel=1e-12)
    power = [r["power"] for r in reference if r.get("power") is not None]
    assert out["power_w"].count() == len(power)
    if power:
        assert out["power_w"].mean() == pytest.approx(np.mean(power), rel=1e-12)


def test_the_indoor_trainer_ride_in_figures():
    out = ketex.read_stream(TRAINER)
    assert len(out) == 2263 and out["elapsed_s"].iloc[-1] == 2263.0
    assert out["power_w"].count() == 2222
    load = ketex.training_load(out.assign(participant_id="P", session_id="S"),
                               hr_rest=60, hr_max=190, sex="male").iloc[0]  # fmt: skip
    assert load["duration_min"] == pytest.approx(2263 / 60)
    assert load["work_kj"] > 0 and np.isfinite(load["normalized_power_w"])


def test_a_truncated_copy_names_the_file_and_the_last_complete_record(tmp_path):
    data = EDGE.read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[: len(data) // 2])
    decoded = 0
    with pytest.raises(fitdecode.FitEOFError):  # what fitdecode itself does with the copy
        with fitdecode.FitReader(str(cut)) as reader:
            for frame in reader:
                decoded += isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record"
    assert 0 < decoded < 15
    with pytest.raises(KetexError, match=rf"cut\.fit: ends early \(truncated\) after record "
                                         rf"{decoded - 1}, the last complete one") as caught:
        ketex.read_stream(cut)
    assert not isinstance(caught.value, fitdecode.FitError)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_real_file_that_ends_early():
    path = FILES / "activity-unexpected-eof.fit"
    with pytest.raises(KetexError, match=r"activity-unexpected-eof\.fit: ends early"):
        ketex.read_stream(path)


@pytest.mark.parametrize(("name", "damage", "message"), [
    ("crc.fit", lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]), r"cannot be decoded as FIT .*CRC"),
    ("text.fit", lambda b: b"not a fit file at all", r"cannot be decoded as FIT before its "
                                                     r"first record"),
    ("empty.fit", lambda b: b"", r"empty\.fit: "),
])  # fmt: skip
def test_damaged_fit_files_raise_ketex_errors(tmp_path, name, damage, message):
    path = tmp_path / name
    path.write_bytes(damage(EDGE.read_bytes()))
    with pytest.raises(KetexError, match=message) as caught:
        ketex.read_stream(path)
    assert not isinstance(caught.value, fitdecode.FitError)
