"""read_streams: a folder of recordings and its manifest, and the manifest's checks."""

from __future__ import annotations

import pytest

import ketex
from ketex.errors import DataValidationError, KetexError


def folder_with(tmp_path, manifest):
    (tmp_path / "a.csv").write_text("elapsed_s,heart_rate_bpm\n0,120\n1,121\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("elapsed_s,heart_rate_bpm\n0,130\n", encoding="utf-8")
    (tmp_path / "manifest.csv").write_text(manifest, encoding="utf-8")
    return tmp_path


def test_the_manifest_labels_every_record(tmp_path):
    folder = folder_with(tmp_path, "file,participant_id,day,session_id\n"
                                   "a.csv,P01,3,S1\nb.csv,P02,5,S1\n")  # fmt: skip
    out = ketex.read_streams(folder)
    assert list(out["participant_id"]) == ["P01", "P01", "P02"]
    assert list(out["day"]) == [3, 3, 5] and str(out["day"].dtype) == "Int64"
    assert list(out["heart_rate_bpm"]) == [120.0, 121.0, 130.0]
    assert out["source_file"].str.endswith(("a.csv", "b.csv")).all()
    load = ketex.training_load(out, hr_rest=60, hr_max=190, sex="f")
    assert list(load["duration_min"]) == pytest.approx([1 / 60, 0.0])


def test_every_manifest_problem_is_listed_with_its_line(tmp_path):
    folder = folder_with(tmp_path, "file,participant_id,day,session_id\n"
                                   "a.csv,P01,x,S1\nc.csv,P01,4,S1\na.csv,,4,S2\n")  # fmt: skip
    with pytest.raises(DataValidationError, match="day 'x' is not a whole number") as caught:
        ketex.read_streams(folder)
    report = caught.value.report
    assert sorted(zip(report["line"], report["column"], strict=True)) == [
        (2, "day"), (3, "file"), (3, "session_id"), (4, "file"), (4, "participant_id")]


def test_a_manifest_without_a_column_or_unreadable(tmp_path):
    folder = folder_with(tmp_path, "file,participant_id,session_id\na.csv,P01,S1\n")
    with pytest.raises(DataValidationError, match="has no column 'day'"):
        ketex.read_streams(folder)
    with pytest.raises(KetexError, match="the manifest cannot be read"):
        ketex.read_streams(folder, manifest="absent.csv")
