"""ketex.exercise_windows on hand-worked schedules.

Infusion A: day 1, 09:00 for 60 min, so it ends at day 1 10:00 (34 h from day 0 midnight).
Sessions 23, 24, 47 and 49 h after that end: day 2 09:00, day 2 10:00, day 3 09:00,
day 3 11:00. Windows [0, 24), [24, 48), [48, 72): 23 h -> 0-24h; 24 h -> 24-48h (the
boundary belongs to the later window); 47 h -> 24-48h; 49 h -> 48-72h.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex import exercise_windows


def _infusions(days, starts, durations, pid="P1"):
    return pd.DataFrame({"participant_id": pid, "day": days, "start_min": starts,
                         "duration_min": durations})


def _sessions(days, starts, met=(100.0, 200.0, 300.0, 400.0), pid="P1"):
    return pd.DataFrame({"participant_id": pid, "day": days, "start_min": starts,
                         "duration_min": 30.0, "met_minutes": list(met)[: len(days)]})


SESSIONS = _sessions([2, 2, 3, 3], [540, 600, 540, 660])


def test_boundaries_of_the_default_windows():
    out = exercise_windows(_infusions([1], [540], [60]), SESSIONS, by="session")
    assert out["hours_after_infusion_end"].tolist() == [23.0, 24.0, 47.0, 49.0]
    assert out["window"].tolist() == ["0-24h", "24-48h", "24-48h", "48-72h"]
    table = exercise_windows(_infusions([1], [540], [60]), SESSIONS)
    assert table["window"].tolist() == ["0-24h", "24-48h", "48-72h"]
    assert table["sessions"].tolist() == [1, 2, 1]
    assert table["met_minutes"].tolist() == [100.0, 500.0, 400.0]
    assert table["kcal_per_kg"].tolist() == pytest.approx([1.75, 8.75, 7.0], rel=1e-12)
    assert table["duration_min"].tolist() == [30.0, 60.0, 30.0]


def test_overlapping_windows_latest_counts_each_session_once():
    # infusion 2 on day 2 at 08:00 for 40 min ends at day 2 08:40 (56.667 h); the
    # sessions at 57 h, 58 h (day 2) are 0.33 h and 1.33 h after it, 23 h and 24 h after
    # infusion 1; day 3 sessions are 24.33 h and 26.33 h after infusion 2.
    inf = _infusions([1, 2], [540, 480], [60, 40])
    out = exercise_windows(inf, SESSIONS, by="session")
    assert out["infusion_number"].tolist() == [2, 2, 2, 2]
    np.testing.assert_allclose(out["hours_after_infusion_end"],
                               [1 / 3, 4 / 3, 24 + 1 / 3, 26 + 1 / 3], rtol=1e-12)
    assert out["window"].tolist() == ["0-24h", "0-24h", "24-48h", "24-48h"]
    table = exercise_windows(inf, SESSIONS)
    first = table[table["infusion_number"] == 1]
    assert first["sessions"].tolist() == [0, 0, 0]
    second = table[table["infusion_number"] == 2]
    assert second["sessions"].tolist() == [2, 2, 0]
    people = exercise_windows(inf, SESSIONS, by="participant")
    assert people["sessions"].tolist() == [2, 2, 0]
    assert people["sessions"].sum() == len(SESSIONS)  # each session once
    assert people["infusions"].tolist() == [2, 2, 2]


def test_overlapping_windows_every_counts_once_per_infusion():
    inf = _infusions([1, 2], [540, 480], [60, 40])
    table = exercise_windows(inf, SESSIONS, attribution="every")
    first = table[table["infusion_number"] == 1]
    assert first["sessions"].tolist() == [1, 2, 1]  # as with infusion 1 alone
    second = table[table["infusion_number"] == 2]
    assert second["sessions"].tolist() == [2, 2, 0]
    people = exercise_windows(inf, SESSIONS, attribution="every", by="participant")
    assert people["sessions"].tolist() == [3, 4, 1]
    assert people["met_minutes"].tolist() == [400.0, 1200.0, 400.0]


def test_session_during_or_before_an_infusion_is_not_in_its_windows():
    inf = _infusions([1], [540], [60])
    # day 1 09:20 (during the infusion), day 1 10:00 (at its end), day 0 10:00 (before)
    ses = _sessions([1, 1, 0], [560, 600, 600], met=(10.0, 20.0, 30.0))
    out = exercise_windows(inf, ses, by="session")
    assert out["hours_after_infusion_end"].tolist() == [0.0]
    assert out["window"].tolist() == ["0-24h"]


def test_custom_windows_no_met_minutes_and_several_participants():
    inf = pd.concat([_infusions([1], [540], [60]), _infusions([5], [600], [40], pid="P2")])
    ses = SESSIONS.drop(columns="met_minutes")
    table = exercise_windows(inf, ses, windows_h=[(0, 48)])
    assert table["participant_id"].tolist() == ["P1", "P2"]
    assert table["window"].tolist() == ["0-48h", "0-48h"]
    assert table["sessions"].tolist() == [3, 0]
    assert np.isnan(table["met_minutes"].iloc[0]) and table["met_minutes"].iloc[1] == 0.0


def test_bad_input_names_table_row_column_and_value():
    inf = _infusions([1, 2], [540, 1500], [60, 40])
    expected = r"infusions row 2 \(participant 'P1'\), column 'start_min': value '1500'"
    with pytest.raises(ketex.DataValidationError, match=expected):
        exercise_windows(inf, SESSIONS)
    with pytest.raises(ketex.DataValidationError, match="lacks column"):
        exercise_windows(_infusions([1], [540], [60]), SESSIONS.drop(columns="start_min"))
    with pytest.raises(ValueError, match="attribution"):
        exercise_windows(_infusions([1], [540], [60]), SESSIONS, attribution="first")
    with pytest.raises(ValueError, match="windows_h"):
        exercise_windows(_infusions([1], [540], [60]), SESSIONS, windows_h=[(24, 0)])


def test_timing_figure_marks_infusion_ends_and_sessions_inside():
    import matplotlib.pyplot as plt

    from ketex.report.figures import plot_exercise_timing

    inf = _infusions([1], [540], [60])
    ses = _sessions([2, 2, 3, 3, 6], [540, 600, 540, 660, 540], met=(1, 2, 3, 4, 5))
    ax = plot_exercise_timing(inf, ses)
    lines = {line.get_gid(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["infusions:P1"].get_xdata(), [1 + 600 / 1440])
    np.testing.assert_allclose(lines["sessions:P1"].get_xdata(),
                               [2 + 540 / 1440, 2 + 600 / 1440, 3 + 540 / 1440,
                                3 + 660 / 1440, 6 + 540 / 1440])
    # only the day-6 session (5 days after the end) is outside the 0-72 h windows
    np.testing.assert_allclose(lines["outside:P1"].get_xdata(), [6 + 540 / 1440])
    plt.close("all")
