"""The tipping-point figure draws the grid of ketex.estimand_analyses and its tipping point."""

from __future__ import annotations

import numpy as np
import pytest

import ketex
from ketex.report.figures import plot_tipping_point
from ketex.report.style import new_figure

DELTAS = [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]


def _spec(trial, **tipping):
    return ketex.estimand_spec({"estimands": {
        "references": {"SERIES": "SINGLE", "SINGLE": "SINGLE"},
        "strategies": {"withdrew from the study": "JR", "other": "MAR"},
        "visits": ["WEEK2", "WEEK3", "WEEK4"],
        **({"tipping_point": {"arm": "SERIES", "deltas": DELTAS} | tipping} if tipping
           else {}),
    }}, protocol=trial.protocol)  # fmt: skip


@pytest.fixture(scope="module")
def analyses(sample_trial):
    """Week 4 (the last visit analysed) tips between delta 60 and 80."""
    return ketex.estimand_analyses(sample_trial, _spec(sample_trial, alpha=0.05))


def test_estimate_band_and_tipping_point_drawn(analyses):
    ax = plot_tipping_point(analyses)
    assert ax.get_xlabel() == "Delta added to the imputed values of SERIES"
    assert ax.get_ylabel() == "SERIES - SINGLE at WEEK4"
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert list(lines) == ["null", "estimate", "tipping_point"]
    grid = analyses.tipping_grid[analyses.tipping_grid["visit"] == "WEEK4"]
    assert np.array_equal(lines["estimate"].get_xdata(), DELTAS)
    assert np.array_equal(lines["estimate"].get_ydata(), grid["estimate"])
    assert analyses.tipping_point is not None and 60 < analyses.tipping_point < 80
    assert np.allclose(lines["tipping_point"].get_xdata(), analyses.tipping_point)
    band = next(c for c in ax.collections if c.get_gid() == "ci")
    y = band.get_paths()[0].vertices[:, 1]
    assert np.isclose(y.min(), grid["ci_low"].min()) and np.isclose(y.max(), grid["ci_high"].max())
    open_markers = next(c for c in ax.collections if c.get_gid() == "not_significant")
    assert len(open_markers.get_offsets()) == int((~grid["significant"]).sum()) == 2
    assert any(t.get_text() == f"tipping point: delta = {analyses.tipping_point:.2f}"
               for t in ax.texts)  # fmt: skip


def test_other_visit_without_a_tip_and_given_axes(analyses):
    _, ax = new_figure("single")
    assert plot_tipping_point(analyses, visit="WEEK2", ax=ax) is ax
    assert [line.get_gid() for line in ax.get_lines()] == ["null", "estimate"]
    assert [t.get_text() for t in ax.texts] == ["no tipping point on the grid"]
    assert ax.get_ylabel() == "SERIES - SINGLE at WEEK2"


def test_tipping_point_result_and_the_errors(analyses, sample_trial):
    tp = ketex.tipping_point(analyses.primary, DELTAS, arm="SERIES")
    ax = plot_tipping_point(tp)  # last visit, first contrast: the same figure
    tipping = next(ln for ln in ax.get_lines() if ln.get_gid() == "tipping_point")
    assert np.allclose(tipping.get_xdata(), analyses.tipping_point)
    with pytest.raises(ValueError, match="'WEEK12'.*not in the grid"):
        plot_tipping_point(tp, visit="WEEK12")
    with pytest.raises(TypeError, match="estimand_analyses"):
        plot_tipping_point(tp.data)
    no_grid = ketex.estimand_analyses(sample_trial, _spec(sample_trial))
    with pytest.raises(ValueError, match=r"no tipping-point grid.*\[estimands.tipping_point\]"):
        plot_tipping_point(no_grid)
