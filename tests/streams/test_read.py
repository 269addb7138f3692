"""read_stream: the same session written as TCX, GPX and CSV by the helpers below reads
back to the same stream; broken files raise ketex errors naming file and record."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from ketex.errors import DataValidationError, KetexError

HR = [120, 125, 131, 140, 0]
WATTS = [100, 150, 0, 210, 180]
CAD = [80, 85, 0, 90, 88]
TIMES = [f"2026-03-01T10:00:{s:02d}Z" for s in (0, 1, 2, 4, 5)]


def write_tcx(path):
    points = "".join(
        f"<Trackpoint><Time>{t}</Time><DistanceMeters>{10.0 * i}</DistanceMeters>"
        f"<HeartRateBpm><Value>{h}</Value></HeartRateBpm><Cadence>{c}</Cadence>"
        f"<Extensions><ns3:TPX><ns3:Speed>{5.0 + i}</ns3:Speed><ns3:Watts>{w}</ns3:Watts>"
        "</ns3:TPX></Extensions></Trackpoint>"
        for i, (t, h, w, c) in enumerate(zip(TIMES, HR, WATTS, CAD, strict=True))
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"'
        ' xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"><Activities>'
        f'<Activity Sport="Biking"><Id>{TIMES[0]}</Id><Lap StartTime="{TIMES[0]}">'
        f"<DistanceMeters>40</DistanceMeters><Track>{points}</Track></Lap></Activity>"
        "</Activities></TrainingCenterDatabase>",
        encoding="utf-8",
    )
    return path


def write_gpx(path):
    points = "".join(
        f'<trkpt lat="41.3" lon="-72.9"><ele>10</ele><time>{t}</time><extensions>'
        f"<power>{w}</power><gpxtpx:TrackPointExtension><gpxtpx:hr>{h}</gpxtpx:hr>"
        f"<gpxtpx:cad>{c}</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>"
        for t, h, w, c in zip(TIMES, HR, WATTS, CAD, strict=True)
    )
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="test"'
        ' xmlns="http://www.topografix.com/GPX/1/1"'
        ' xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>",
        encoding="utf-8",
    )
    return path


def write_csv(path):
    lines = ["timestamp,heart_rate_bpm,power_w,cadence_rpm,speed_m_s,distance_m"]
    lines += [f"{t},{h},{w},{c},{5.0 + i},{10.0 * i}"
              for i, (t, h, w, c) in enumerate(zip(TIMES, HR, WATTS, CAD, strict=True))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tcx_reads_every_field(tmp_path):
    out = ketex.read_stream(write_tcx(tmp_path / "ride.tcx"))
    assert list(out.columns) == list(ketex.STREAM_COLUMNS)
    assert list(out["elapsed_s"]) == [0.0, 1.0, 2.0, 4.0, 5.0]
    assert list(out["heart_rate_bpm"]) == HR and list(out["power_w"]) == WATTS
    assert list(out["cadence_rpm"]) == CAD
    assert list(out["speed_m_s"]) == [5.0, 6.0, 7.0, 8.0, 9.0]
    assert list(out["distance_m"]) == [0.0, 10.0, 20.0, 30.0, 40.0]  # not the lap's 40
    assert list(out["record_index"]) == [0, 1, 2, 3, 4]
    assert out["timestamp"].iloc[3] == pd.Timestamp("2026-03-01 10:00:04", tz="UTC")


def test_the_same_session_reads_the_same_from_tcx_gpx_and_csv(tmp_path):
    tcx = ketex.read_stream(write_tcx(tmp_path / "s.tcx"))
    gpx = ketex.read_stream(write_gpx(tmp_path / "s.gpx"))
    csv = ketex.read_stream(write_csv(tmp_path / "s.csv"))
    values = list(ketex.STREAM_COLUMNS[:7])
    pd.testing.assert_frame_equal(tcx[values], csv[values])
    carried = ["elapsed_s", "timestamp", "heart_rate_bpm", "power_w", "cadence_rpm"]
    pd.testing.assert_frame_equal(gpx[carried], csv[carried])
    assert gpx["speed_m_s"].isna().all() and gpx["distance_m"].isna().all()


def test_a_read_stream_feeds_training_load(tmp_path):
    stream = ketex.read_stream(write_csv(tmp_path / "s.csv"))
    stream = stream.assign(participant_id="P01", session_id="S1")
    load = ketex.training_load(stream, hr_rest=60, hr_max=190, sex="m").iloc[0]
    assert load["n_dropout_s"] == 1.0  # the last record: 0 bpm for 1 s
    assert load["work_kj"] == pytest.approx((150 + 0 + 210 * 2 + 180) / 1000)


def test_a_truncated_file_names_the_file_and_the_last_record(tmp_path):
    path = write_tcx(tmp_path / "cut.tcx")
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("<Trackpoint>", text.index("</Trackpoint>") + 1) + 40],
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(KetexError, match=r"cut\.tcx: not well-formed XML .* after record 0"):
        ketex.read_stream(path)


def test_bad_values_are_listed_with_their_records(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("elapsed_s,heart_rate_bpm\n0,120\n1,abc\n2,130\n3,?\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"record 1: heart_rate_bpm 'abc'") as caught:
        ketex.read_stream(path)
    assert list(caught.value.report["line"]) == [1, 3]


@pytest.mark.parametrize(("name", "text", "message"), [
    ("x.xyz", "", "unknown stream type"),
    ("e.csv", "", "empty file"),
    ("r.csv", "elapsed_s,heart_rate_bpm\n0,1,2\n", "record 0 .* has 3 fields"),
    ("n.gpx", "<gpx></gpx>", "no records"),
    ("t.gpx", "<gpx><trk><trkseg><trkpt><time>soon</time></trkpt></trkseg></trk></gpx>",
     "timestamp 'soon' cannot be read"),
])  # fmt: skip
def test_unreadable_files_raise_ketex_errors(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KetexError, match=message):
        ketex.read_stream(path)
    with pytest.raises(KetexError, match="no such file"):
        ketex.read_stream(tmp_path / "missing.tcx")


def test_parquet_reads_like_csv_and_checks_its_types(tmp_path):
    csv = ketex.read_stream(write_csv(tmp_path / "s.csv"))
    values = list(ketex.STREAM_COLUMNS[:7])
    frame = csv[values[1:]].assign(timestamp=csv["timestamp"].dt.tz_localize(None))
    frame.to_parquet(tmp_path / "s.parquet", index=False)
    parquet = ketex.read_stream(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(parquet[values], csv[values])
    assert list(parquet["record_index"]) == [0, 1, 2, 3, 4]
    pd.DataFrame({"elapsed_s": [0.0, 1.0], "heart_rate_bpm": ["120", "x"]}).to_parquet(
        tmp_path / "text.parquet")
    with pytest.raises(DataValidationError, match="heart_rate_bpm is of type .*, not a number"):
        ketex.read_stream(tmp_path / "text.parquet")
    pd.DataFrame({"elapsed_s": [0.0, None]}).to_parquet(tmp_path / "hole.parquet")
    with pytest.raises(DataValidationError, match="record 1 has no time"):
        ketex.read_stream(tmp_path / "hole.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(KetexError, match="cannot be read as Parquet"):
        ketex.read_stream(tmp_path / "bad.parquet")
