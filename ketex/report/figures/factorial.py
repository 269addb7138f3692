"""Figures of a factorial trial: the interaction plot and the forest of factorial effects.

- :func:`plot_interaction`: the cell LS-means of an MMRM over visits with their CIs, one
  line per level of one factor (exercise), one panel per level of the other (drug). Lines
  that stay parallel mean no interaction on the scale of the outcome.
- :func:`plot_factorial_forest`: the main effects (at the margins), the simple effects
  (inside the table) and the interaction contrast at one visit, from
  :func:`ketex.factorial_contrasts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.report._table import format_estimate_ci
from ketex.report.figures._common import axes_or_new, palette, styled
from ketex.report.style import OKABE_ITO, new_figure

__all__ = ["factor_label", "interaction_means", "plot_factorial_forest", "plot_interaction"]

_EFFECT_KINDS = ("main effect", "simple effect", "interaction")
_KIND_STYLE = {  # colour, marker
    "main effect": (OKABE_ITO["blue"], "s"),
    "simple effect": (OKABE_ITO["bluish green"], "o"),
    "interaction": (OKABE_ITO["vermillion"], "D"),
}
_KIND_TITLE = {
    "main effect": "Main effects (at the margins)",
    "simple effect": "Simple effects (inside the table)",
    "interaction": "Interaction",
}


def factor_label(name: str, labels: Mapping[str, str] | None = None) -> str:
    """How a factor is named in figures and tables.

    ``labels[name]`` when given; otherwise an all-capitals column name (the ADaM
    convention, ``DRUG``) in sentence case, any other name as it is.

    Examples
    --------
    >>> factor_label("DRUG"), factor_label("exercise"), factor_label("DRUG", {"DRUG": "Drug arm"})
    ('Drug', 'exercise', 'Drug arm')
    """
    if labels and name in labels:
        return str(labels[name])
    return name[:1] + name[1:].lower() if name.isupper() else name


def _factor_levels(fit, names: Mapping[str, str | None], caller: str) -> dict[str, list[str]]:
    """The levels of each named model factor, or an error naming the model's factors."""
    if not hasattr(fit, "_grid"):
        raise DataValidationError(
            f"{caller}: fit must be a fitted model of ketex.mmrm, got {type(fit).__name__}"
        )
    factors = fit._grid().factors
    levels = {}
    for role, name in names.items():
        if name is None:
            continue
        if name not in factors:
            raise DataValidationError(
                f"{caller}: {role}={name!r} is not a factor of the model (its factors: "
                f"{', '.join(map(str, factors)) or 'none'}); fit a formula such as "
                "'CHG ~ BASE + DRUG * EXERCISE * AVISIT' with the factor columns of "
                "ketex.analysis_dataset"
            )
        levels[name] = [str(v) for v in factors[name]]
    used = [n for n in names.values() if n is not None]
    if len(set(used)) < len(used):
        raise DataValidationError(
            f"{caller}: {', '.join(f'{k}={v!r}' for k, v in names.items() if v)} must be "
            "different factors"
        )
    return levels


def _ordered(levels: list[str], order: Sequence[str] | None, name: str, caller: str) -> list[str]:
    if order is None:
        return levels
    order = [str(v) for v in order]
    if sorted(order) != sorted(levels):
        raise DataValidationError(
            f"{caller}: the order given for {name!r} ({', '.join(order)}) must list each of "
            f"its levels once: {', '.join(levels)}"
        )
    return order


def _visit_days(fit, by: str, visits: list[str],
                days: Mapping[str, float] | None) -> dict[str, float] | None:
    """Study day of each visit: given, else the fitted rows' ``AWTARGET``, else None."""
    if days is not None:
        missing = [v for v in visits if v not in days]
        if missing:
            raise DataValidationError(
                f"plot_interaction: days has no study day for visit(s) {', '.join(missing)}; "
                "give one per visit of the model"
            )
        return {v: float(days[v]) for v in visits}
    data = fit._frame.data
    if "AWTARGET" not in data.columns or by not in data.columns:
        return None
    target = data.groupby(data[by].astype(str), observed=True)["AWTARGET"].median()
    if not set(visits) <= set(target.index) or target.reindex(visits).isna().any():
        return None
    return {v: float(target[v]) for v in visits}


def interaction_means(
    fit,
    factor_a: str = "DRUG",
    factor_b: str = "EXERCISE",
    by: str = "AVISIT",
    *,
    days: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The cell LS-means :func:`plot_interaction` draws, one row per visit and cell.

    Parameters
    ----------
    fit : ketex.MMRMResult
        A fit with both factors and ``by`` as model factors (e.g.
        ``CHG ~ BASE + DRUG * EXERCISE * AVISIT``).
    factor_a, factor_b, by : str
        The panel factor, the line factor and the x axis (the visit).
    days : mapping, optional
        Study day of each visit (default: the fitted rows' ``AWTARGET``).

    Returns
    -------
    pandas.DataFrame
        ``visit, day, week, level_a, level_b, estimate, se, df, ci_low, ci_high``:
        ``fit.lsmeans([factor_a, factor_b], by=by)`` with the visit's study day and
        ``week = day / 7`` (NaN when the days are not known), visits in model order.

    Examples
    --------
    >>> import ketex
    >>> from ketex.primary import primary_dataset
    >>> ds = primary_dataset(ketex.load_trial(ketex.sample_study_path(study="factorial")))
    >>> ds = ds[ds["AVISIT"].isin(["WEEK4", "WEEK12"])].copy()
    >>> ds["AVISIT"] = ds["AVISIT"].cat.remove_unused_categories()
    >>> fit = ketex.mmrm(ds, "CHG ~ BASE + DRUG * EXERCISE * AVISIT", subject="USUBJID",
    ...                  visit="AVISIT")
    >>> m = interaction_means(fit)
    >>> m[["visit", "week", "level_a", "level_b"]].head(2)
       visit  week   level_a     level_b
    0  WEEK4   4.0  ketamine     aerobic
    1  WEEK4   4.0  ketamine  stretching
    """
    _factor_levels(fit, {"factor_a": factor_a, "factor_b": factor_b, "by": by},
                   "interaction_means")
    cells = fit.lsmeans([factor_a, factor_b], by=by)
    visits = list(dict.fromkeys(cells[by].astype(str)))
    day = _visit_days(fit, by, visits, days)
    out = pd.DataFrame({
        "visit": cells[by].astype(str).to_numpy(),
        "level_a": cells[factor_a].astype(str).to_numpy(),
        "level_b": cells[factor_b].astype(str).to_numpy(),
    })  # fmt: skip
    out.insert(1, "day", out["visit"].map(day) if day is not None else np.nan)
    out["day"] = out["day"].astype(float)
    out.insert(2, "week", out["day"] / 7)
    for column in ("estimate", "se", "df", "ci_low", "ci_high"):
        out[column] = cells[column].to_numpy(dtype=float)
    return out


@styled
def plot_interaction(
    fit,
    factor_a: str = "DRUG",
    factor_b: str = "EXERCISE",
    by: str = "AVISIT",
    *,
    order_a: Sequence[str] | None = None,
    order_b: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    days: Mapping[str, float] | None = None,
    highlight: str | None = None,
    axes=None,
    ylabel: str = "Change from baseline, LS mean (95% CI)",
):
    """Cell LS-means over visits with 95% CIs: a line per level of B, a panel per level of A.

    Parameters
    ----------
    fit : ketex.MMRMResult
        A fit with both factors, ``by`` and their interactions, e.g.
        ``CHG ~ BASE + DRUG * EXERCISE * AVISIT`` on :func:`ketex.analysis_dataset` rows.
    factor_a : str
        One panel per level (e.g. the drug).
    factor_b : str
        One line per level (e.g. the exercise), in the Okabe-Ito colours in order.
    by : str
        The x axis: the visit factor.
    order_a, order_b : sequence of str, optional
        Panel and line order (default: the model's level order).
    labels : mapping, optional
        Display names of the factors and their levels (``{"DRUG": "Drug",
        "aerobic": "Aerobic cycling"}``); default :func:`factor_label` and the levels.
    colors : mapping, optional
        Colour of each level of ``factor_b``.
    days : mapping, optional
        Study day of each visit: the x axis is in weeks (``day / 7``). Default: the
        fitted rows' ``AWTARGET``; without it visits are equally spaced and named.
    highlight : str, optional
        A visit to mark with a vertical band (the primary visit).
    axes : sequence of matplotlib.axes.Axes, optional
        One Axes per level of ``factor_a``; default: a new double-column figure.
    ylabel : str

    Returns
    -------
    matplotlib.figure.Figure
        The mean line of each cell has ``gid = "lsmean:<a>:<b>"`` and its interval bars
        ``gid = "ci:<a>:<b>"``; the panel Axes have ``gid = "panel:<a>"``.

    Raises
    ------
    ketex.errors.DataValidationError
        When a factor or ``by`` is not a factor of the model, or an order does not list
        the levels.

    Examples
    --------
    >>> import ketex
    >>> from ketex.primary import primary_dataset
    >>> ds = primary_dataset(ketex.load_trial(ketex.sample_study_path(study="factorial")))
    >>> ds = ds[ds["AVISIT"].isin(["WEEK4", "WEEK12"])].copy()
    >>> ds["AVISIT"] = ds["AVISIT"].cat.remove_unused_categories()
    >>> fit = ketex.mmrm(ds, "CHG ~ BASE + DRUG * EXERCISE * AVISIT", subject="USUBJID",
    ...                  visit="AVISIT")
    >>> fig = plot_interaction(fit, order_a=["midazolam", "ketamine"],
    ...                        order_b=["stretching", "aerobic"])
    >>> [ax.get_title(loc="left") for ax in fig.axes]
    ['Drug: midazolam', 'Drug: ketamine']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    levels = _factor_levels(fit, {"factor_a": factor_a, "factor_b": factor_b, "by": by},
                            "plot_interaction")
    levels_a = _ordered(levels[factor_a], order_a, factor_a, "plot_interaction")
    levels_b = _ordered(levels[factor_b], order_b, factor_b, "plot_interaction")
    means = interaction_means(fit, factor_a, factor_b, by, days=days)
    visits = list(dict.fromkeys(means["visit"]))
    if highlight is not None and highlight not in visits:
        raise DataValidationError(
            f"plot_interaction: highlight={highlight!r} is not a visit of the model "
            f"({', '.join(visits)})"
        )
    in_weeks = bool(means["week"].notna().all())
    position = (dict(zip(means["visit"], means["week"], strict=True)) if in_weeks
                else {v: float(i) for i, v in enumerate(visits)})
    span = max(position.values()) - min(position.values()) or 1.0
    step = 0.012 * span  # horizontal dodge of the lines, so the intervals do not overlap
    names = dict(labels or {})
    colour = palette(levels_b, colors)
    sparse = len(visits) <= 10  # else smaller marks: many visits crowd the first weeks
    marker_size = 3.5 if sparse else 2.2
    if axes is None:
        fig, grid = new_figure("double", 70, ncols=len(levels_a), sharey=True, squeeze=False)
        axes = list(grid.ravel())
    else:
        axes = list(np.ravel(axes))
        if len(axes) != len(levels_a):
            raise DataValidationError(
                f"plot_interaction: {len(axes)} Axes given for the {len(levels_a)} levels "
                f"of {factor_a!r} ({', '.join(levels_a)}); give one per level"
            )
        fig = axes[0].figure
    for ax, a in zip(axes, levels_a, strict=True):
        ax.set_gid(f"panel:{a}")
        if highlight is not None:
            x = position[highlight]
            half = (len(levels_b) / 2 + 1.5) * step
            ax.axvspan(x - half, x + half, color="0.92", zorder=0, linewidth=0)
        ax.axhline(0, color="0.6", linewidth=0.6, zorder=0)
        for j, b in enumerate(levels_b):
            cell = means[(means["level_a"] == a) & (means["level_b"] == b)]
            x = cell["visit"].map(position).to_numpy(float) + (j - (len(levels_b) - 1) / 2) * step
            y = cell["estimate"].to_numpy(float)
            err = np.vstack([y - cell["ci_low"].to_numpy(float),
                             cell["ci_high"].to_numpy(float) - y])  # fmt: skip
            bars = ax.errorbar(x, y, yerr=err, color=colour[b], marker="o",
                               markersize=marker_size, capsize=1.5 if sparse else 1.0,
                               elinewidth=0.7 if sparse else 0.5,
                               label=names.get(b, b))  # fmt: skip
            bars.lines[0].set_gid(f"lsmean:{a}:{b}")
            bars.lines[2][0].set_gid(f"ci:{a}:{b}")
        ax.set_title(f"{factor_label(factor_a, names)}: {names.get(a, a)}", loc="left")
        if in_weeks:
            ax.set_xlabel("Week")
            # a tick at each visit on a whole week (24 h after an infusion is not one)
            ticks = {round(w) for w in position.values() if abs(w - round(w)) < 1e-6}
            if min(position.values()) < 1:
                ticks.add(0)  # the start of treatment, when a visit falls in the first week
            ticks = sorted(ticks)
            if ticks:
                ax.set_xticks(ticks)
                ax.set_xticklabels([str(t) for t in ticks])
        else:
            ax.set_xticks(list(position.values()))
            ax.set_xticklabels(visits, rotation=45, ha="right")
            ax.set_xlabel(by)
    axes[0].set_ylabel(ylabel)
    handles, texts = axes[0].get_legend_handles_labels()
    axes[-1].legend(handles, texts, title=factor_label(factor_b, names), loc="best",
                    handlelength=1.5)  # fmt: skip
    return fig


def _effects_at(contrasts: pd.DataFrame, visit: str | None) -> pd.DataFrame:
    """The rows of one visit of a factorial_contrasts table."""
    needed = ["effect", "contrast", "estimate", "ci_low", "ci_high"]
    missing = [c for c in needed if c not in contrasts.columns]
    if missing:
        raise DataValidationError(
            f"plot_factorial_forest: contrasts has no column(s) {', '.join(missing)}; pass "
            "the table of ketex.factorial_contrasts"
        )
    from ketex.factorial_mmrm import FACTORIAL_COLUMNS

    by = [c for c in contrasts.columns if c not in FACTORIAL_COLUMNS]
    if not by:
        if visit is not None:
            raise DataValidationError(
                f"plot_factorial_forest: visit={visit!r} given but the contrasts are not by "
                "visit (factorial_contrasts(..., by=None))"
            )
        return contrasts.reset_index(drop=True)
    column = by[0]
    values = list(dict.fromkeys(contrasts[column].astype(str)))
    if visit is None:
        if len(values) > 1:
            raise DataValidationError(
                f"plot_factorial_forest: the contrasts have {len(values)} levels of "
                f"{column!r} ({', '.join(values)}); say which with visit="
            )
        visit = values[0]
    if str(visit) not in values:
        raise DataValidationError(
            f"plot_factorial_forest: visit={visit!r} is not a level of {column!r} in the "
            f"contrasts ({', '.join(values)})"
        )
    return contrasts[contrasts[column].astype(str) == str(visit)].reset_index(drop=True)


def _factor_of(effect: str) -> tuple[str, str]:
    """(factor, kind) of an ``effect`` value: ``"DRUG main effect"`` -> ("DRUG", "main effect")."""
    for kind in _EFFECT_KINDS:
        if effect == kind:
            return "", kind
        if effect.endswith(" " + kind):
            return effect[: -len(kind) - 1], kind
    raise DataValidationError(
        f"plot_factorial_forest: effect {effect!r} is not one of '<factor> main effect', "
        "'<factor> simple effect' or 'interaction' (the rows of ketex.factorial_contrasts)"
    )


def _row_labels(rows: pd.DataFrame, labels: Mapping[str, str]) -> list[str]:
    """Row labels: ``Drug: ketamine - midazolam``, ``... | Exercise = aerobic`` and the
    interaction as ``(ketamine - midazolam) x (aerobic - stretching)``."""
    mains: dict[str, list[str]] = {}
    for effect, contrast in zip(rows["effect"], rows["contrast"], strict=True):
        factor, kind = _factor_of(effect)
        if kind == "main effect":
            mains.setdefault(factor, []).append(contrast)
    factors = list(mains)
    out, k = [], 0
    for effect, contrast in zip(rows["effect"], rows["contrast"], strict=True):
        factor, kind = _factor_of(effect)
        if kind == "interaction":
            # one row per pair of non-reference levels, in factorial_contrasts's order
            if len(factors) == 2:
                first, second = mains[factors[0]], mains[factors[1]]
                if k < len(first) * len(second):
                    a, b = first[k // len(second)], second[k % len(second)]
                    out.append(f"({a}) \u00d7 ({b})")
                    k += 1
                    continue
            out.append(contrast)
            continue
        text = contrast
        if " | " in contrast:
            difference, condition = contrast.split(" | ", 1)
            other, _, level = condition.partition(" = ")
            text = f"{difference} | {factor_label(other, labels)} = {labels.get(level, level)}"
        out.append(f"{factor_label(factor, labels)}: {text}")
    return out


@styled
def plot_factorial_forest(
    contrasts: pd.DataFrame,
    *,
    visit: str | None = None,
    labels: Mapping[str, str] | None = None,
    ax=None,
    xlabel: str = "Difference in change from baseline (95% CI)",
    favours: tuple[str, str] | None = None,
    annotate: bool = True,
):
    """Forest of the main effects, simple effects and interaction of a factorial trial.

    Parameters
    ----------
    contrasts : pandas.DataFrame
        :func:`ketex.factorial_contrasts` output (``effect, contrast, estimate, ci_low,
        ci_high`` and the ``by`` column).
    visit : str, optional
        The level of the ``by`` column to draw (needed when there are several).
    labels : mapping, optional
        Display names of the factors and levels (default :func:`factor_label`).
    ax : matplotlib.axes.Axes, optional
    xlabel : str
    favours : (str, str), optional
        Text above the axis left and right of 0 (e.g. ``("favours first", "favours
        second")``: a negative change difference favours the first level named).
    annotate : bool
        Print ``estimate (low to high)`` right of the plot.

    Returns
    -------
    matplotlib.axes.Axes
        Rows top to bottom in the table's order under three headings (main effects,
        simple effects, interaction), the headings bold y tick labels; each interval
        line has ``gid = "effect:<contrast>"`` with the ``contrast`` of its row.

    Raises
    ------
    ketex.errors.DataValidationError
        When columns are missing, ``visit`` is needed or not a level, or an ``effect``
        is not one :func:`ketex.factorial_contrasts` makes.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "effect": ["DRUG main effect", "EXERCISE main effect", "interaction"],
    ...     "contrast": ["ket - mid", "aer - str", "ket:aer - ket:str - mid:aer + mid:str"],
    ...     "estimate": [-4.0, -2.0, -1.5], "ci_low": [-6.0, -4.1, -5.6],
    ...     "ci_high": [-2.0, 0.1, 2.6]})
    >>> ax = plot_factorial_forest(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]  # doctest: +NORMALIZE_WHITESPACE
    ['Main effects (at the margins)', 'Drug: ket - mid', 'Exercise: aer - str',
     'Interaction', '(ket - mid) × (aer - str)']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    rows = _effects_at(contrasts, visit)
    if rows.empty:
        raise DataValidationError("plot_factorial_forest: the contrasts table has no rows")
    names = dict(labels or {})
    kinds = [_factor_of(e)[1] for e in rows["effect"]]
    texts = _row_labels(rows, names)
    # y positions: a heading line above each block of one kind
    y, headings, position = [], [], 0.0
    previous = None
    for kind in kinds:
        if kind != previous:
            headings.append((kind, position))
            position += 1.0
            previous = kind
        y.append(position)
        position += 1.0
    ax = axes_or_new(ax, "double", 14 + 5.5 * position)
    for i, (_, row) in enumerate(rows.iterrows()):
        colour, marker = _KIND_STYLE[kinds[i]]
        ax.plot([row["ci_low"], row["ci_high"]], [y[i], y[i]], color=colour, linewidth=1,
                gid=f"effect:{row['contrast']}", solid_capstyle="butt")  # fmt: skip
        ax.scatter([row["estimate"]], [y[i]], s=18, marker=marker, color=colour, zorder=3)
    ax.axvline(0, color="0.5", linewidth=0.7, linestyle="--", zorder=0)
    # headings are tick labels too, in bold, so they align with the rows' labels
    ticks = sorted([(at, _KIND_TITLE[kind], True) for kind, at in headings]
                   + [(at, text, False) for at, text in zip(y, texts, strict=True)])
    ax.set_yticks([t[0] for t in ticks])
    ax.set_yticklabels([t[1] for t in ticks])
    for label, (_, _, heading) in zip(ax.get_yticklabels(), ticks, strict=True):
        if heading:
            label.set_fontweight("bold")
    side = ax.get_yaxis_transform()
    ax.set_ylim(position - 0.4, -0.8)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(xlabel)
    if favours is not None:
        top = ax.get_xaxis_transform()
        ax.text(0, 1.0, f"\u2190 {favours[0]} ", transform=top, ha="right", va="bottom",
                fontsize=6.2, color="0.3")  # fmt: skip
        ax.text(0, 1.0, f" {favours[1]} \u2192", transform=top, ha="left", va="bottom",
                fontsize=6.2, color="0.3")  # fmt: skip
    if annotate:
        for i, (_, row) in enumerate(rows.iterrows()):
            ax.text(1.02, y[i], format_estimate_ci(row), transform=side, ha="left", va="center",
                    fontsize=6.5, gid=f"estimate:{row['contrast']}")  # fmt: skip
    return ax
