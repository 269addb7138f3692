"""Factorial figures: what is drawn equals the LS-means and contrasts it claims to show."""

from __future__ import annotations

import numpy as np
import pytest

import ketex
from ketex.errors import DataValidationError
from ketex.primary import primary_dataset
from ketex.report.figures import interaction_means, plot_factorial_forest, plot_interaction
from ketex.report.style import new_figure, save_figure

VISITS = ["INF1_24H", "WEEK4", "WEEK12"]
KET, MID, AEX, STR = "ketamine", "midazolam", "aerobic", "stretching"


@pytest.fixture(scope="module")
def fit():
    trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    ds = primary_dataset(trial)
    ds = ds[ds["AVISIT"].isin(VISITS)].copy()
    ds["AVISIT"] = ds["AVISIT"].cat.remove_unused_categories()
    return ketex.mmrm(ds, "CHG ~ BASE + DRUG * EXERCISE * AVISIT", subject="USUBJID",
                      visit="AVISIT")


@pytest.fixture(scope="module")
def contrasts(fit):
    return ketex.factorial_contrasts(fit, reference_a=MID, reference_b=STR)


def _cells(fit):
    return fit.lsmeans(["DRUG", "EXERCISE"], by="AVISIT").assign(
        AVISIT=lambda d: d["AVISIT"].astype(str), DRUG=lambda d: d["DRUG"].astype(str),
        EXERCISE=lambda d: d["EXERCISE"].astype(str))


def _by_gid(ax, prefix):
    found = {}
    for artist in [*ax.lines, *ax.collections]:
        gid = artist.get_gid()
        if gid is not None and str(gid).startswith(prefix):
            found[gid] = artist
    return found


def test_interaction_means_are_the_cell_lsmeans_at_the_visit_weeks(fit):
    means = interaction_means(fit)
    cells = _cells(fit)
    assert means[["visit", "level_a", "level_b"]].values.tolist() == (
        cells[["AVISIT", "DRUG", "EXERCISE"]].values.tolist())
    for column in ("estimate", "se", "df", "ci_low", "ci_high"):
        np.testing.assert_array_equal(means[column].to_numpy(), cells[column].to_numpy())
    # the protocol's target days: 24 h after the first infusion (day 2), weeks 4 and 12
    week = means.drop_duplicates("visit").set_index("visit")["week"]
    assert week.to_dict() == pytest.approx({"INF1_24H": 2 / 7, "WEEK4": 4.0, "WEEK12": 12.0})


def test_interaction_lines_and_bars_are_the_lsmeans_and_their_cis(fit):
    fig = plot_interaction(fit, order_a=[MID, KET], order_b=[STR, AEX], highlight="WEEK12")
    cells = _cells(fit).set_index(["DRUG", "EXERCISE"])
    panels = {ax.get_gid(): ax for ax in fig.axes if ax.get_gid()}
    assert list(panels) == [f"panel:{MID}", f"panel:{KET}"]
    assert [ax.get_title(loc="left") for ax in panels.values()] == [
        "Drug: midazolam", "Drug: ketamine"]
    for a in (MID, KET):
        ax = panels[f"panel:{a}"]
        lines, bars = _by_gid(ax, "lsmean:"), _by_gid(ax, "ci:")
        assert sorted(lines) == sorted(f"lsmean:{a}:{b}" for b in (STR, AEX))
        for b in (STR, AEX):
            cell = cells.loc[(a, b)]  # in visit order
            line = lines[f"lsmean:{a}:{b}"]
            np.testing.assert_allclose(line.get_ydata(), cell["estimate"], rtol=0, atol=1e-12)
            # dodged a little left or right of the visit's week, never onto another visit
            assert np.abs(line.get_xdata() - np.array([2 / 7, 4, 12])).max() < 0.2
            segments = np.array(bars[f"ci:{a}:{b}"].get_segments())
            np.testing.assert_allclose(segments[:, 0, 1], cell["ci_low"], atol=1e-12)
            np.testing.assert_allclose(segments[:, 1, 1], cell["ci_high"], atol=1e-12)
            np.testing.assert_allclose(segments[:, 0, 0], line.get_xdata(), atol=1e-12)
        # stretching and aerobic are dodged apart
        assert (lines[f"lsmean:{a}:{STR}"].get_xdata()
                < lines[f"lsmean:{a}:{AEX}"].get_xdata()).all()
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "4", "12"]
    legend = fig.axes[-1].get_legend()
    assert legend.get_title().get_text() == "Exercise"
    assert [t.get_text() for t in legend.get_texts()] == [STR, AEX]
    # same colour per exercise level in both panels, Okabe-Ito blue then vermillion
    for ax in fig.axes:
        colours = {g: ln.get_color() for g, ln in _by_gid(ax, "lsmean:").items()}
        assert [colours[g] for g in sorted(colours, key=lambda g: g.endswith(AEX))] == [
            "#0072B2", "#D55E00"]


def test_interaction_labels_days_and_given_axes(fit):
    fig, axes = new_figure("double", 60, ncols=2)
    days = {"INF1_24H": 1, "WEEK4": 28, "WEEK12": 84}
    out = plot_interaction(fit, "EXERCISE", "DRUG", days=days, axes=axes,
                           labels={"EXERCISE": "Exercise arm", AEX: "Aerobic cycling"})
    assert out is fig
    assert [ax.get_title(loc="left") for ax in axes] == [
        "Exercise arm: Aerobic cycling", "Exercise arm: stretching"]
    line = _by_gid(axes[0], "lsmean:")[f"lsmean:{AEX}:{KET}"]
    assert np.round(line.get_xdata()).tolist() == [0, 4, 12]  # days / 7, dodged
    with pytest.raises(DataValidationError, match="1 Axes given for the 2 levels"):
        plot_interaction(fit, axes=[axes[0]])


def test_interaction_says_what_is_wrong(fit):
    with pytest.raises(DataValidationError, match="factor_b='ARM' is not a factor"):
        plot_interaction(fit, factor_b="ARM")
    with pytest.raises(DataValidationError, match="different factors"):
        plot_interaction(fit, factor_b="DRUG")
    with pytest.raises(DataValidationError, match="must list each of its levels"):
        plot_interaction(fit, order_a=[KET, "saline"])
    with pytest.raises(DataValidationError, match="highlight='WEEK8' is not a visit"):
        plot_interaction(fit, highlight="WEEK8")
    with pytest.raises(DataValidationError, match="no study day for visit"):
        plot_interaction(fit, days={"WEEK4": 28})
    with pytest.raises(DataValidationError, match="fitted model of ketex.mmrm"):
        plot_interaction(object())


def test_forest_rows_are_the_contrasts_of_the_visit(contrasts):
    ax = plot_factorial_forest(contrasts, visit="WEEK12")
    week = contrasts[contrasts["AVISIT"] == "WEEK12"]
    lines = _by_gid(ax, "effect:")
    assert list(lines) == [f"effect:{c}" for c in week["contrast"]]  # table order
    texts = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
    for _, row in week.iterrows():
        line = lines[f"effect:{row['contrast']}"]
        assert line.get_xdata().tolist() == [row["ci_low"], row["ci_high"]]
        assert texts[f"estimate:{row['contrast']}"] == (
            f"{row['estimate']:.1f} ({row['ci_low']:.1f} to {row['ci_high']:.1f})")
    # each estimate is a marker on its row's line
    markers = [c for c in ax.collections if len(c.get_offsets()) == 1]
    assert [tuple(c.get_offsets()[0]) for c in markers] == [
        (row["estimate"], line.get_ydata()[0])
        for (_, row), line in zip(week.iterrows(), lines.values(), strict=True)]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "Main effects (at the margins)",
        "Drug: ketamine - midazolam",
        "Exercise: aerobic - stretching",
        "Simple effects (inside the table)",
        "Drug: ketamine - midazolam | Exercise = aerobic",
        "Drug: ketamine - midazolam | Exercise = stretching",
        "Exercise: aerobic - stretching | Drug = ketamine",
        "Exercise: aerobic - stretching | Drug = midazolam",
        "Interaction",
        "(ketamine - midazolam) \u00d7 (aerobic - stretching)",
    ]
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == [labels[0], labels[3], labels[8]]
    # the rows' labels are at their lines' heights
    ticks = dict(zip(labels, ax.get_yticks(), strict=True))
    assert ticks[labels[-1]] == lines[f"effect:{week['contrast'].iloc[-1]}"].get_ydata()[0]


def test_forest_needs_the_visit_when_there_are_several(contrasts):
    with pytest.raises(DataValidationError, match="3 levels of 'AVISIT'"):
        plot_factorial_forest(contrasts)
    with pytest.raises(DataValidationError, match="visit='WEEK8' is not a level"):
        plot_factorial_forest(contrasts, visit="WEEK8")
    with pytest.raises(DataValidationError, match="no column"):
        plot_factorial_forest(contrasts.drop(columns="ci_low"), visit="WEEK12")
    one = contrasts[contrasts["AVISIT"] == "WEEK4"]
    assert len(_by_gid(plot_factorial_forest(one), "effect:")) == 7
    bad = one.assign(effect="main effect of drug")
    with pytest.raises(DataValidationError, match="is not one of"):
        plot_factorial_forest(bad)


def test_factorial_figures_save(fit, contrasts, tmp_path):
    fig = plot_interaction(fit)
    paths = save_figure(fig, tmp_path / "interaction", formats=["png", "pdf"], dpi=100)
    ax = plot_factorial_forest(contrasts, visit="WEEK12", favours=("ketamine", "midazolam"))
    paths += save_figure(ax.figure, tmp_path / "forest", formats=["png"], dpi=100)
    assert all(p.stat().st_size > 1000 for p in paths)
