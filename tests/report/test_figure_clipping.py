"""No report figure draws text outside its canvas (a clipped title, label or legend).

The figures are caught as ``write_report`` saves them (``save_figure`` replaced by a
recorder), so they are exactly the report's, titles set by the report included. Each is
drawn at the resolutions the report uses (the HTML images at 160 dpi, the PNG files at
600 dpi) and a smaller one; every Text artist that was drawn must lie inside the figure,
within 1 pixel. The figures whose size follows the number of participants (swimmer,
adherence heat map) are drawn for small trials too (the sample cut to 3 and 8 per arm).
"""

from __future__ import annotations

import dataclasses

import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import ketex
from ketex.report import figures as fg
from ketex.report import run as report_run
from ketex.report.run import ReportOptions, write_report

TOLERANCE_PX = 1.0
DPIS = (72, 160, 600)


@pytest.fixture(scope="module")
def report_figures(sample_trial, tmp_path_factory):
    figures: dict[str, object] = {}

    def record(fig, path, **kwargs):
        figures[path.name] = fig
        return []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_run, "save_figure", record)
        patch.setattr(report_run, "embed_png", lambda fig, dpi: "")
        write_report(sample_trial, tmp_path_factory.mktemp("report"),
                     options=ReportOptions(table_formats=("csv",)))  # fmt: skip
    return figures


def drawn_texts(fig) -> list[matplotlib.text.Text]:
    """The Text artists (titles, labels, tick labels, legend entries, annotations) that
    a draw of ``fig`` actually renders: visible and not empty."""
    drawn: list[matplotlib.text.Text] = []
    original = matplotlib.text.Text.draw

    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matplotlib.text.Text, "draw", draw)
        fig.canvas.draw()
    return drawn


def clipped(fig, dpi: float) -> list[str]:
    """Texts of ``fig`` drawn at ``dpi`` that reach outside the figure, with by how much."""
    FigureCanvasAgg(fig)  # a closed figure keeps only a base canvas, which cannot draw
    fig.set_dpi(dpi)
    texts = drawn_texts(fig)
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    out = []
    for text in dict.fromkeys(texts):
        extent = text.get_window_extent(renderer)
        over = max(box.x0 - extent.x0, extent.x1 - box.x1, box.y0 - extent.y0,
                   extent.y1 - box.y1)  # fmt: skip
        if over > TOLERANCE_PX:
            out.append(f"{text.get_text()[:50]!r} by {over:.0f} px")
    return out


def test_the_report_makes_the_figures_checked(report_figures):
    assert {"figure1_trajectories", "figure3_relapse_km", "figure5_swimmer",
            "figure7_adherence"} <= set(report_figures)  # fmt: skip


@pytest.mark.parametrize("dpi", DPIS)
def test_no_report_figure_has_text_outside_the_canvas(report_figures, dpi):
    problems = {name: bad for name, fig in report_figures.items() if (bad := clipped(fig, dpi))}
    assert not problems, f"text outside the figure at {dpi} dpi: {problems}"


def test_the_check_sees_a_clipped_title_and_new_figure_wraps_it():
    """The check itself: a left-aligned title longer than its axes is caught on a plain
    figure; on a ``new_figure`` panel the same title wraps and fits."""
    import matplotlib.pyplot as plt

    from ketex.report.style import new_figure

    title = "a title far too long to fit in a single-column panel, cut at the edge"
    plain, ax = plt.subplots(figsize=(3.3, 1.6), layout="constrained")
    ax.set_title(title, loc="left")
    assert clipped(plain, 100)
    ax.set_title("short", loc="left")
    assert not clipped(plain, 100)
    styled, ax = new_figure("single", 40)
    ax.set_title(title, loc="left")
    assert not clipped(styled, 100)
    assert ax.set_title(title, loc="left").get_wrap()


def _first_per_arm(trial, n: int):
    p = trial.participants
    keep = set(p.groupby("arm", observed=True).head(n)["participant_id"])

    def cut(table):
        return table[table["participant_id"].isin(keep)].reset_index(drop=True)

    return dataclasses.replace(trial, participants=cut(p), infusions=cut(trial.infusions),
                               exercise=cut(trial.exercise),
                               assessments=cut(trial.assessments), events=cut(trial.events))


@pytest.mark.parametrize("per_arm", [3, 8])
def test_figures_sized_by_participants_fit_a_small_trial(sample_trial, per_arm):
    trial = _first_per_arm(sample_trial, per_arm)
    labels = {a.code: a.label or a.code for a in trial.protocol.arms}
    swimmer = fg.plot_swimmer(trial, labels=labels).figure
    heat = fg.plot_adherence_heatmap(ketex.exercise_dose(trial, by="week"),
                                     labels=labels).figure  # fmt: skip
    for dpi in DPIS[:2]:
        assert not clipped(swimmer, dpi), (dpi, clipped(swimmer, dpi))
        assert not clipped(heat, dpi), (dpi, clipped(heat, dpi))


def test_kaplan_meier_with_long_arm_labels_keeps_legend_and_risk_table_inside():
    """Three arms with labels longer than the single-column axes: the legend wraps them,
    the number-at-risk table cuts them with an ellipsis, nothing runs off."""
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"time": rng.exponential(50, 90), "event": rng.random(90) < 0.5,
                         "arm": np.repeat(["A", "B", "C"], 30)})  # fmt: skip
    labels = {"A": "Single ketamine infusion + exercise",
              "B": "Six ketamine infusions over two weeks + exercise",
              "C": "Six ketamine infusions over two weeks + supervised aerobic exercise "
                   "three times weekly"}  # fmt: skip
    ax = fg.plot_kaplan_meier(data, time="time", event="event", group="arm", labels=labels)
    for dpi in DPIS[:2]:
        assert not clipped(ax.figure, dpi), (dpi, clipped(ax.figure, dpi))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [t.replace("\n", " ") for t in legend] == list(labels.values())
    assert any("\n" in t for t in legend)
