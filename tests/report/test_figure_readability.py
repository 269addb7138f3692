"""Figures read without a colour bar or guesswork: the adherence heat map's discrete
legend, readable Kaplan-Meier bands, the dose-response slope with its unit."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba

import ketex
from ketex.report.figures import adherence_matrix, plot_adherence_heatmap


@pytest.fixture(scope="module")
def weekly(sample_trial):
    return ketex.exercise_dose(sample_trial, by="week")


def test_adherence_heat_map_has_a_discrete_legend_not_a_colour_bar(weekly):
    ax = plot_adherence_heatmap(weekly, order=["SINGLE", "SERIES"])
    assert ax.figure.axes == [ax]  # no colour-bar Axes
    legend = ax.get_legend()
    assert legend is not None and legend.get_gid() == "adherence-legend"
    names = [t.get_text() for t in legend.get_texts()]
    assert names == ["0\u201325 %", ">25\u201350 %", ">50\u201375 %", ">75\u2013100 %",
                     ">100 %", "missing (not prescribed)"]
    swatches = [tuple(h.get_facecolor()) for h in legend.legend_handles]
    assert len(set(swatches)) == len(swatches)  # every class its own colour
    # each cell is drawn in the colour of its class (100 % belongs to ">75-100 %")
    image = ax.images[0]
    shown = 100 * adherence_matrix(weekly, order=["SINGLE", "SERIES"]).to_numpy(float)
    rgba = image.to_rgba(np.ma.masked_invalid(shown))
    edges = [0, 25, 50, 75, 100]
    values = shown.ravel()
    assert (values == 100).any() and np.isnan(values).any()
    for v, colour in zip(values, rgba.reshape(-1, 4), strict=True):
        k = 5 if np.isnan(v) else min(int(np.searchsorted(edges, v, side="left")) - 1, 4)
        k = max(k, 0)
        assert tuple(colour) == pytest.approx(swatches[k]), v
    assert swatches[5] == pytest.approx(to_rgba("0.85"))
