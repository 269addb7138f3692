"""Panel titles wrap at their own panel, and a shared y axis is labelled once per row.

The report's individual-trajectories figure of the bundled 2 x 2 factorial (four arms, long
arm labels such as "Ketamine + aerobic exercise") is drawn at the report's resolutions: no
two title extents overlap, every title lies inside the figure, and only the first panel of
the row shows the y label.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import ketex
from ketex.report.run import _individual_figure
from ketex.report.style import new_figure

DPIS = (72, 160, 600)


@pytest.fixture(scope="module")
def factorial_figure():
    trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    labels = {a.code: a.label or a.code for a in trial.protocol.arms}
    arms = [a.code for a in trial.protocol.arms]
    fig = _individual_figure(ketex.analysis_dataset(trial), trial.infusions, arms, labels)
    yield fig, labels
    plt.close(fig)


def _titles(fig, dpi):
    FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [(ax, ax._left_title.get_window_extent(renderer)) for ax in fig.axes]


def _overlapping(extents) -> list[tuple[int, int]]:
    return [(i, j) for i, (_, a) in enumerate(extents) for j, (_, b) in enumerate(extents)
            if i < j and a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1]


@pytest.mark.parametrize("dpi", DPIS)
def test_four_arm_titles_neither_overlap_nor_leave_the_figure(factorial_figure, dpi):
    fig, labels = factorial_figure
    assert len(fig.axes) == 4
    assert max(len(label) for label in labels.values()) > 25  # long enough to need wrapping
    extents = _titles(fig, dpi)
    assert _overlapping(extents) == []
    box = fig.bbox
    for ax, e in extents:
        assert box.x0 - 1 <= e.x0 and e.x1 <= box.x1 + 1 and e.y1 <= box.y1 + 1, (
            ax._left_title.get_text(), e)
        # each title within its panel, up to the next one
        assert e.x1 <= min((o.bbox.x0 for o in fig.axes if o.bbox.x0 > ax.bbox.x0),
                           default=box.x1) + 1  # fmt: skip
    assert any("\n" in ax._left_title._get_wrapped_text() for ax in fig.axes)


def test_shared_y_label_appears_once_per_row(factorial_figure):
    fig, _ = factorial_figure
    shown = [ax.yaxis.label.get_visible() and bool(ax.get_ylabel()) for ax in fig.axes]
    assert shown == [True, False, False, False]


def test_the_checks_see_overlapping_titles_and_repeated_labels():
    """Without the panel wrap (matplotlib's own, at the figure's edge) the titles of four
    panels run into each other; without sharey every panel keeps its label."""
    title = "Ketamine + aerobic exercise, a long arm label"
    fig, axes = plt.subplots(1, 4, figsize=(6.9, 2.7), layout="constrained", sharey=True)
    for ax in axes:
        ax.set_title(title, loc="left", wrap=True)
        ax.set_ylabel("Score")
    assert _overlapping(_titles(fig, 160))
    assert sum(ax.yaxis.label.get_visible() for ax in axes) == 4
    styled, axes = new_figure("double", 70, ncols=4, sharey=True)
    for ax in axes:
        ax.set_title(title, loc="left")
        ax.set_ylabel("Score")
    assert _overlapping(_titles(styled, 160)) == []
    assert [ax.yaxis.label.get_visible() for ax in axes] == [True, False, False, False]
    unshared, axes = new_figure("double", 70, ncols=2)
    assert all(ax.yaxis.label.get_visible() for ax in axes)
