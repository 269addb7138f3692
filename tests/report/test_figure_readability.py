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


def test_kaplan_meier_bands_stay_readable_where_they_overlap(sample_trial):
    """Light fills, one hatch and one dash pattern per arm on the band's stepped edges,
    and the curves drawn above every band."""
    from ketex.report.figures import plot_kaplan_meier
    from ketex.survival import kaplan_meier

    tte = ketex.time_to_event(sample_trial, "SUSTAIN-1").table
    ax = plot_kaplan_meier(tte, order=["SINGLE", "SERIES"])
    km = kaplan_meier(tte.assign(event=tte["event"].astype(bool).astype(int)), time="AVAL",
                      event="event", group="ARM").table
    lines = {ln.get_gid(): ln for ln in ax.lines if ln.get_gid()}
    bands = {c.get_gid(): c for c in ax.collections if str(c.get_gid()).startswith("km-")}
    fills = [bands[f"km-band:{arm}"] for arm in ("SINGLE", "SERIES")]
    assert all(f.get_alpha() <= 0.15 for f in fills)
    hatches = [bands.get(f"km-hatch:{arm}") for arm in ("SINGLE", "SERIES")]
    styles = {lines[f"km-ci:{arm}:low"].get_linestyle() for arm in ("SINGLE", "SERIES")}
    assert hatches[1] is not None and hatches[1].get_hatch()
    assert hatches[0] is None or hatches[0].get_hatch() != hatches[1].get_hatch()
    assert len(styles) == 2  # each arm's band edges in their own dash pattern
    band_top = max(c.get_zorder() for c in bands.values())
    edge_top = max(lines[f"km-ci:{a}:{s}"].get_zorder() for a in ("SINGLE", "SERIES")
                   for s in ("low", "high"))  # fmt: skip
    for arm in ("SINGLE", "SERIES"):
        curve = lines[f"km:{arm}"]
        assert curve.get_zorder() > max(band_top, edge_top)
        rows = km[km["group"] == arm]
        for side, column in (("low", "ci_low"), ("high", "ci_high")):
            edge = lines[f"km-ci:{arm}:{side}"]
            assert edge.get_drawstyle() == "steps-post"
            assert np.allclose(edge.get_xdata()[1:], rows["time"])
            assert np.allclose(edge.get_ydata()[1:], rows[column].fillna(1.0))


def test_dose_response_slope_carries_its_unit(sample_trial):
    from scipy import stats

    from ketex.report.analysis import dose_outcome_data
    from ketex.report.figures import plot_dose_response

    data = dose_outcome_data(sample_trial)
    rows = data[["kkw", "CHG"]].dropna()
    fit = stats.linregress(rows["kkw"], rows["CHG"])
    half = stats.t.ppf(0.975, len(rows) - 2) * fit.stderr
    title = plot_dose_response(data).get_title(loc="right")
    assert title.startswith(f"slope {fit.slope:.2f} points per KKW (95% CI "
                            f"{fit.slope - half:.2f} to {fit.slope + half:.2f}), p ")
    title = plot_dose_response(data, x_unit="MET-h/week", y_unit="HAM-D points")
    assert " HAM-D points per MET-h/week (95% CI " in title.get_title(loc="right")


def test_score_axes_name_the_instrument(sample_trial):
    from ketex.report.analysis import mmrm_dataset
    from ketex.report.figures import plot_spaghetti, plot_trajectory

    adqs = ketex.analysis_dataset(sample_trial)
    assert set(adqs["PARAMCD"].dropna()) == {"MADRS"}
    assert plot_trajectory(adqs).get_ylabel() == "MADRS total score, mean (95% CI)"
    change = mmrm_dataset(sample_trial)
    assert plot_trajectory(change, value="CHG").get_ylabel() == \
        "MADRS change from baseline (95% CI)"
    assert plot_spaghetti(adqs, arm="SINGLE").get_ylabel() == "MADRS total score"
    assert plot_spaghetti(adqs, value="CHG", arm="SINGLE").get_ylabel() == \
        "MADRS change from baseline"
    # without PARAMCD: the generic names
    assert plot_trajectory(adqs.drop(columns="PARAMCD")).get_ylabel() == \
        "Score, mean (95% CI)"


def test_factorial_interaction_axis_names_the_instrument():
    import dataclasses

    from ketex.report.factorial_section import factorial_outputs

    trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    primary = dataclasses.replace(trial.protocol.analysis.primary,
                                  visits=("WEEK2", "WEEK4", "WEEK12"))  # a quick fit
    protocol = dataclasses.replace(trial.protocol, analysis=dataclasses.replace(
        trial.protocol.analysis, primary=primary))
    out = factorial_outputs(dataclasses.replace(trial, protocol=protocol))
    scale = primary.resolve(protocol).scale
    labels = [ax.get_ylabel() for ax in out.interaction.axes if ax.get_ylabel()]
    assert labels == [f"{scale} change from baseline, LS mean (95% CI)"]
