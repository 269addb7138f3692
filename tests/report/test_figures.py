"""Publication figures: content checked against the data, not just that files exist."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.report.analysis import dose_outcome_data, mmrm_dataset
from ketex.report.figures import (
    adherence_matrix,
    consort_counts,
    observed_means,
    plot_adherence_heatmap,
    plot_consort,
    plot_dose_response,
    plot_forest,
    plot_kaplan_meier,
    plot_spaghetti,
    plot_swimmer,
    plot_trajectory,
    risk_table_axes,
)
from ketex.report.style import new_figure, publication_style, save_figure


@pytest.fixture(scope="module")
def adqs(sample_trial):
    ds = ketex.analysis_dataset(sample_trial)
    ds["ARM"] = pd.Categorical(ds["ARM"].astype(str), ["SINGLE", "SERIES"])
    return ds


def test_every_plot_draws_on_the_axes_it_is_given(sample_trial, adqs, sample_fit):
    fig, axes = new_figure("double", 120, nrows=3, ncols=3)
    weekly = ketex.exercise_dose(sample_trial, by="week")
    tte = ketex.time_to_event(sample_trial, "SUSTAIN-1").table
    effects = pd.DataFrame({"label": ["a", "b"], "estimate": [1.0, 2.0], "ci_low": [0.0, 1.0],
                            "ci_high": [2.0, 3.0], "n": [10, 20]})
    calls = [
        lambda ax: plot_trajectory(adqs, ax=ax),
        lambda ax: plot_trajectory(mmrm_dataset(sample_trial), value="CHG", fit=sample_fit,
                                   ax=ax),
        lambda ax: plot_spaghetti(adqs, sample_trial.infusions, ax=ax),
        lambda ax: plot_kaplan_meier(tte, ax=ax),
        lambda ax: plot_forest(effects, ax=ax),
        lambda ax: plot_swimmer(sample_trial, ax=ax),
        lambda ax: plot_consort(sample_trial, ax=ax),
        lambda ax: plot_adherence_heatmap(weekly, ax=ax),
        lambda ax: plot_dose_response(dose_outcome_data(sample_trial), ax=ax),
    ]
    for ax, call in zip(axes.ravel(), calls, strict=True):
        assert call(ax) is ax


def test_trajectory_plots_the_observed_means(adqs):
    means = observed_means(adqs)
    rows = adqs[(adqs["ANL01FL"] == "Y") & (adqs["AVISIT"].astype(str) == "WEEK12")]
    for arm in ("SINGLE", "SERIES"):
        expected = rows.loc[rows["ARM"] == arm, "AVAL"].dropna()
        got = means[(means["arm"] == arm) & (means["visit"] == "WEEK12")].iloc[0]
        assert got["n"] == len(expected)
        assert got["mean"] == pytest.approx(expected.mean())
        half = 1.959 * expected.std() / np.sqrt(len(expected))
        assert got["ci_high"] - got["mean"] == pytest.approx(half, rel=0.05)  # t vs z
    ax = plot_trajectory(adqs)
    single = ax.get_lines()[0]  # first arm's means, in visit order
    expected = means[means["arm"] == "SINGLE"]["mean"].to_numpy()
    assert np.allclose(single.get_ydata(), expected)


def test_trajectory_lsmeans_need_the_change(adqs, sample_fit):
    with pytest.raises(ValueError, match="value='CHG'"):
        plot_trajectory(adqs, fit=sample_fit)


def test_spaghetti_one_line_per_participant_and_every_infusion_marked(sample_trial, adqs):
    ax = plot_spaghetti(adqs, sample_trial.infusions, arm="SERIES")
    lines = [ln for ln in ax.lines if str(ln.get_gid()).startswith("participant:")]
    series = set(sample_trial.participants.loc[sample_trial.participants["arm"] == "SERIES",
                                               "participant_id"])
    assert {ln.get_gid().split(":")[1] for ln in lines} == series
    markers = [ln for ln in ax.lines if str(ln.get_gid()).startswith("infusions:")]
    infusions = sample_trial.infusions[sample_trial.infusions["participant_id"].isin(series)]
    assert sum(len(m.get_xdata()) for m in markers) == len(infusions)
    with pytest.raises(ValueError, match="arm 'PLACEBO'"):
        plot_spaghetti(adqs, arm="PLACEBO")


def test_kaplan_meier_number_at_risk_matches_the_data(sample_trial):
    tte = ketex.time_to_event(sample_trial, "SUSTAIN-1").table
    times = [0, 30, 60, 90, 120, 150]
    ax = plot_kaplan_meier(tte, order=["SINGLE", "SERIES"], risk_times=times)
    texts = {t.get_gid(): t.get_text() for t in risk_table_axes(ax).texts if t.get_gid()}
    for arm in ("SINGLE", "SERIES"):
        follow_up = tte.loc[tte["ARM"] == arm, "AVAL"]
        for t in times:
            assert texts[f"at-risk:{arm}:{t}"] == str(int((follow_up >= t).sum()))
    # the curve steps down by the observed proportion at the first event
    curve = next(ln for ln in ax.lines if ln.get_gid() == "km:SERIES")
    rows = tte[tte["ARM"] == "SERIES"]
    first = rows.loc[rows["event"].astype(bool), "AVAL"].min()
    at_risk = (rows["AVAL"] >= first).sum()
    events = ((rows["AVAL"] == first) & rows["event"].astype(bool)).sum()
    y = curve.get_ydata()[np.searchsorted(curve.get_xdata(), first)]
    assert y == pytest.approx(1 - events / at_risk)


def test_forest_rows_in_order_with_their_intervals():
    d = pd.DataFrame({"label": ["All", "Women", "Men"], "estimate": [-1.3, -1.6, -0.4],
                      "ci_low": [-4.5, -5.2, -5.7], "ci_high": [1.9, 2.1, 4.9], "n": [80, 52, 28]})
    ax = plot_forest(d, favours=("left", "right"))
    lines = {ln.get_gid(): ln for ln in ax.lines if str(ln.get_gid()).startswith("effect:")}
    assert list(lines["effect:Men"].get_xdata()) == [-5.7, 4.9]
    assert "-0.4 (-5.7 to 4.9)" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="needs columns"):
        plot_forest(d.drop(columns="ci_low"))


def test_swimmer_one_line_per_participant_ending_at_the_last_record(sample_trial):
    ax = plot_swimmer(sample_trial)
    (lines,) = [c for c in ax.collections if c.get_gid() == "swimmer-lines"]
    segments = lines.get_segments()
    assert len(segments) == len(sample_trial.participants)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ends = {label: seg[1][0] for label, seg in zip(labels, segments, strict=True)}
    tables = [sample_trial.assessments, sample_trial.exercise, sample_trial.infusions,
              sample_trial.events]
    last = max(int(t.loc[t["participant_id"] == "P021", "day"].max()) for t in tables)
    assert ends["P021"] == last
    response = next(ln for ln in ax.lines if ln.get_gid() == "relapse_day")
    relapses = ketex.time_to_event(sample_trial, "SUSTAIN-1").table
    assert len(response.get_xdata()) == int(relapses["event"].sum())


def test_consort_counts_add_up_and_appear_in_the_diagram(sample_trial):
    counts = consort_counts(sample_trial)
    arms = sample_trial.participants["arm"].value_counts()
    for (arm, stage), n in counts.groupby(["arm", "stage"])["n"].sum().items():
        assert n == arms[arm], (arm, stage)
    assert counts.loc[counts["stage"] == "randomisation", "n"].sum() == 80
    # follow-up: those assessed at WEEK12 counted independently
    a = sample_trial.assessments
    week12 = a[(a["instrument"] == "MADRS") & a["total"].notna() & a["day"].between(81, 87)]
    arm_of = sample_trial.participants.set_index("participant_id")["arm"]
    assessed = arm_of[week12["participant_id"].unique()].value_counts()
    got = counts[counts["status"] == "assessed at WEEK12"].set_index("arm")["n"]
    assert got.to_dict() == assessed.to_dict()
    ax = plot_consort(sample_trial)
    text = "\n".join(t.get_text() for t in ax.texts)
    assert f"Assessed at WEEK12 (n = {got['SINGLE']})" in text
    assert "Randomised (n = 80)" in text


def test_adherence_heatmap_holds_the_weekly_attendance(sample_trial):
    weekly = ketex.exercise_dose(sample_trial, by="week")
    matrix = adherence_matrix(weekly, order=["SINGLE", "SERIES"])
    assert matrix.index.get_level_values(0)[0] == "SINGLE"
    one = weekly[(weekly["participant_id"] == "P001") & (weekly["week"] == 3)]
    assert matrix.loc[("SINGLE", "P001"), 3] == pytest.approx(one["attendance"].iloc[0])
    ax = plot_adherence_heatmap(weekly, order=["SINGLE", "SERIES"])
    image = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)
    assert np.allclose(image, 100 * matrix.to_numpy(float), equal_nan=True)


def test_dose_response_line_is_the_least_squares_fit(sample_trial):
    data = dose_outcome_data(sample_trial)
    ax = plot_dose_response(data)
    rows = data[["kkw", "CHG"]].dropna()
    slope, intercept = np.polyfit(rows["kkw"], rows["CHG"], 1)
    line = next(ln for ln in ax.lines if ln.get_gid() == "fit")
    x, y = line.get_xdata(), line.get_ydata()
    assert np.allclose(y, intercept + slope * x)
    assert ax.get_title(loc="right").startswith(f"slope {slope:.2f}")


def test_save_figure_writes_journal_sizes_with_embedded_fonts(tmp_path):
    from PIL import Image

    fig, ax = new_figure()
    with publication_style():
        ax.plot([0, 1], [0, 1], label="a")
        ax.set_title("Embedded")
    paths = save_figure(fig, tmp_path / "fig", width="single", height_mm=60)
    assert [p.suffix for p in paths] == [".pdf", ".svg", ".png"]
    with Image.open(tmp_path / "fig.png") as png:
        # matplotlib truncates to whole pixels: 85 mm at 600 dpi is 2007.9 px
        assert png.size == (int(85 / 25.4 * 600), int(60 / 25.4 * 600))
        assert round(png.info["dpi"][0]) == 600
    pdf = (tmp_path / "fig.pdf").read_bytes()
    assert b"/FontFile2" in pdf and b"/Subtype /Type3" not in pdf  # TrueType, embedded
    assert "<text" not in (tmp_path / "fig.svg").read_text()  # text as paths
    save_figure(fig, tmp_path / "wide", width="double", formats=["png"], dpi=100)
    with Image.open(tmp_path / "wide.png") as png:
        assert png.size[0] == int(175 / 25.4 * 100)
    with pytest.raises(ValueError, match="unknown figure formats"):
        save_figure(fig, tmp_path / "x", formats=["jpg"])
    with pytest.raises(ValueError, match="width must be"):
        new_figure("triple")


def test_publication_style_keeps_interactive_mode_switched_on_inside():
    # Jupyter's inline backend turns interactive mode on with the first figure; leaving
    # the style must not turn it off again (later figures would not be shown)
    import matplotlib as mpl

    from ketex.report.style import publication_style

    before = mpl.is_interactive()
    try:
        mpl.interactive(False)
        with publication_style():
            mpl.interactive(True)
        assert mpl.is_interactive()
        with publication_style():
            assert mpl.rcParams["pdf.fonttype"] == 42
        assert mpl.is_interactive()
    finally:
        mpl.interactive(before)


def _consort_boxes_and_texts(ax):
    from matplotlib.patches import FancyBboxPatch

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    boxes = [p.get_window_extent(renderer) for p in ax.patches
             if isinstance(p, FancyBboxPatch)]  # fmt: skip
    texts = [(t, t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]
    return fig.bbox, boxes, texts


def _check_consort_layout(ax, n_arms):
    figure, boxes, texts = _consort_boxes_and_texts(ax)
    assert len(boxes) == 1 + 3 * n_arms
    for i, a in enumerate(boxes):
        assert figure.x0 <= a.x0 and a.x1 <= figure.x1 and figure.y0 <= a.y0
        assert a.y1 <= figure.y1
        for b in boxes[i + 1:]:
            overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert overlap_x <= 0 or overlap_y <= 0, (a, b)
    for text, extent in texts:
        inside = [b for b in boxes if b.x0 <= extent.x0 and extent.x1 <= b.x1
                  and b.y0 <= extent.y0 and extent.y1 <= b.y1]  # fmt: skip
        assert inside, text.get_text()
        assert figure.x0 <= extent.x0 and extent.x1 <= figure.x1
        assert figure.y0 <= extent.y0 and extent.y1 <= figure.y1


def test_consort_boxes_of_four_arms_neither_overlap_nor_clip():
    trial = ketex.load_trial(ketex.sample_study_path().parent / "sample_factorial")
    ax = plot_consort(trial)
    _check_consort_layout(ax, 4)


def test_consort_boxes_of_six_arms_neither_overlap_nor_clip(monkeypatch):
    from types import SimpleNamespace

    import ketex.report.figures.consort as consort

    codes = [f"ARM{i}" for i in range(6)]
    rows = []
    for code in codes:
        rows += [(code, "randomisation", "randomised", 120),
                 (code, "allocation", "received allocated infusions", 118),
                 (code, "allocation", "did not receive allocated infusions", 2),
                 (code, "follow-up", "assessed at WEEK12", 100),
                 (code, "follow-up", "discontinued before WEEK12", 15),
                 (code, "follow-up", "missed WEEK12", 5),
                 (code, "analysis", "included in the primary MMRM", 110),
                 (code, "analysis", "excluded from the primary MMRM", 10)]
    counts = pd.DataFrame(rows, columns=["arm", "stage", "status", "n"])
    monkeypatch.setattr(consort, "consort_counts", lambda trial: counts)
    arms = [SimpleNamespace(code=c, label=f"Ketamine 0.{i} mg/kg + supervised aerobic "
                            "exercise three times a week") for i, c in enumerate(codes)]
    trial = SimpleNamespace(protocol=SimpleNamespace(arms=arms))
    ax = consort.plot_consort(trial)
    _check_consort_layout(ax, 6)
    text = "\n".join(t.get_text() for t in ax.texts)
    assert "(n = 720)" in text


@pytest.mark.parametrize("x_scale", ["asinh", "linear"])
def test_spaghetti_day_tick_labels_do_not_overlap(adqs, sample_trial, x_scale):
    fig, axes = new_figure("double", 70, ncols=4, sharey=True, squeeze=False)
    for ax in axes[0]:
        plot_spaghetti(adqs, sample_trial.infusions, arm="SERIES", ax=ax, x_scale=x_scale)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in axes[0]:
        shown = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        assert {"0", "84"} <= {t.get_text() for t in shown}
        extents = sorted((t.get_window_extent(renderer) for t in shown), key=lambda b: b.x0)
        assert len(extents) >= 3
        for left, right in zip(extents[:-1], extents[1:], strict=True):
            assert left.x1 < right.x0, (left, right)
