"""Manuscript tables: Table 1, the MMRM table, endpoints, survival, exercise adherence.

The safety tables (TEAE overview, TEAEs by SOC and PT, blood pressure after infusions)
live in :mod:`ketex.report.safety_tables`, the serious-event listing in
:mod:`ketex.report.safety_listing`; both are re-exported here.

Every function returns a :class:`~ketex.report.ManuscriptTable`: ``.data`` holds the
numbers (a tidy DataFrame), ``.display`` the table as printed, and the table writes
itself to CSV, Markdown, LaTeX, HTML and Word (``.save(folder)``).

Arms appear with the reference arm of the primary analysis first (``[analysis.primary]
reference_arm``, default the first arm of ``study.toml``), then in the protocol's order;
the reference arm is the reference of every comparison (differences are *other arm minus
reference arm*).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ketex.primary import model_in_words
from ketex.report import _effects
from ketex.report._table import INDENT, ManuscriptTable, format_estimate_ci, format_p
from ketex.report.safety_cssrs import cssrs_table
from ketex.report.safety_listing import serious_event_listing
from ketex.report.safety_peri_infusion import peri_infusion_table
from ketex.report.safety_tables import (
    adverse_event_table,
    adverse_events,
    infusion_vitals_table,
    teae_overview_table,
)
from ketex.study.trial import Trial

__all__ = [
    "Endpoint",
    "TableOneOptions",
    "Variable",
    "adherence_table",
    "adverse_event_table",
    "adverse_events",
    "baseline_characteristics",
    "cssrs_table",
    "default_endpoints",
    "skipped_endpoints",
    "endpoint_table",
    "infusion_vitals_table",
    "mmrm_table",
    "peri_infusion_table",
    "serious_event_listing",
    "survival_table",
    "table_one",
    "teae_overview_table",
]

Kind = Literal["auto", "mean", "median", "categorical"]
DESCRIBE_COLUMNS = [
    "variable", "label", "level", "group", "summary", "n", "n_missing", "mean", "sd",
    "median", "q1", "q3", "count", "percent",
]  # fmt: skip


@dataclass(frozen=True)
class Variable:
    """A row (or block of rows) of a descriptive table.

    Parameters
    ----------
    column : str
        Column of the participant-level frame.
    label : str
        Row label, with the unit (``"Age, years"``).
    kind : {"auto", "mean", "median", "categorical"}
        ``"auto"``: text and boolean columns are categorical; numbers are summarised by
        mean (SD) unless skewed (see :class:`TableOneOptions`), then by median [IQR].
    """

    column: str
    label: str
    kind: Kind = "auto"


@dataclass(frozen=True)
class TableOneOptions:
    """How Table 1 summarises and compares.

    Parameters
    ----------
    skew_threshold : float
        A number column is shown as median [IQR] when the absolute sample skewness of
        its pooled non-missing values exceeds this (pandas ``Series.skew``, the adjusted
        Fisher-Pearson coefficient); otherwise as mean (SD).
    digits : int
        Decimals of means, SDs, medians and quartiles; percentages get one.
    overall : bool
        Add a column for all participants.
    smd : bool
        Add the standardised mean difference.
    pvalues : bool
        Add p-values (off by default: CONSORT advises against testing baseline
        differences in randomised trials).
    """

    skew_threshold: float = 1.0
    digits: int = 1
    overall: bool = True
    smd: bool = True
    pvalues: bool = False

    def __post_init__(self) -> None:
        if self.skew_threshold <= 0:
            raise ValueError(f"skew_threshold must be positive, got {self.skew_threshold!r}.")
        if not 0 <= self.digits <= 6:
            raise ValueError(f"digits must be between 0 and 6, got {self.digits!r}.")


# -- participant-level frames --------------------------------------------------------------


def _arm_order(trial: Trial) -> list[str]:
    """The reference arm first, then protocol order (every table, every figure)."""
    from ketex.derive.analysis import arm_order

    return arm_order(trial.protocol)


def _arm_labels(trial: Trial) -> dict[str, str]:
    return {arm.code: arm.label or arm.code for arm in trial.protocol.arms}


def baseline_characteristics(trial: Trial) -> pd.DataFrame:
    """One row per participant with the characteristics Table 1 describes.

    Parameters
    ----------
    trial : Trial

    Returns
    -------
    pandas.DataFrame
        ``participant_id``, ``arm`` (Categorical in the protocol's arm order), the
        participants table's ``age, sex, site, weight_kg, height_cm, resting_hr,
        beta_blocker`` when present, ``bmi_kg_m2`` (weight / height^2) when both are,
        and ``baseline_<scale>`` (e.g. ``baseline_MADRS``): the baseline total of each
        scale rated at the protocol's baseline visit, as ``ketex.analysis_dataset``
        defines baseline.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> frame = baseline_characteristics(trial)
    >>> frame.shape, list(frame.columns[-2:])
    ((80, 12), ['baseline_MADRS', 'baseline_QIDS-SR16'])
    """
    from ketex.derive.analysis import analysis_dataset

    keep = [c for c in ("participant_id", "arm", "age", "sex", "site", "weight_kg",
                        "height_cm", "resting_hr", "beta_blocker")
            if c in trial.participants.columns]  # fmt: skip
    frame = trial.participants[keep].copy()
    frame["arm"] = pd.Categorical(frame["arm"].astype(str), categories=_arm_order(trial))
    if {"weight_kg", "height_cm"} <= set(frame.columns):
        bmi = frame["weight_kg"] / (frame["height_cm"] / 100) ** 2
        frame.insert(frame.columns.get_loc("height_cm") + 1, "bmi_kg_m2", bmi)
    from ketex.study.derivation_plan import derivation_options

    for scale in _baseline_scales(trial):
        ds = analysis_dataset(trial, scale, **derivation_options(trial.protocol))
        base = ds[ds["ABLFL"] == "Y"].set_index("USUBJID")["AVAL"]
        ids = frame["participant_id"].astype(str)
        frame[f"baseline_{scale}"] = ids.map(base.to_dict()).astype(float).to_numpy()
    return frame.reset_index(drop=True)


def _baseline_scales(trial: Trial) -> list[str]:
    protocol = trial.protocol
    primary = protocol.primary_scale
    baseline = protocol.endpoints.baseline_visit
    visit = next((v for v in protocol.visits if v.name == baseline), None)
    listed = list(visit.instruments) if visit is not None and visit.instruments else []
    scales = [primary] + [s for s in listed if s != primary]
    rated = set(trial.assessments.loc[trial.assessments["total"].notna(), "instrument"])
    return [s for s in scales if s in rated]


_LABELS = {
    "age": "Age, years", "sex": "Sex", "site": "Site", "weight_kg": "Weight, kg",
    "height_cm": "Height, cm", "bmi_kg_m2": "Body-mass index, kg/m\u00b2",
    "resting_hr": "Resting heart rate, beats/min", "beta_blocker": "Beta-blocker use",
}  # fmt: skip


def _default_variables(frame: pd.DataFrame, group: str) -> list[Variable]:
    """Every column but the group and the participant id, in the frame's order."""
    variables = []
    for column in frame.columns:
        if column in (group, "participant_id"):
            continue
        label = _LABELS.get(column, column)
        if column.startswith("baseline_"):
            label = f"Baseline {column[len('baseline_'):]} total"
        variables.append(Variable(column, label))
    return variables


# -- the descriptive engine ----------------------------------------------------------------


def _is_categorical(series: pd.Series, kind: Kind) -> bool:
    if kind == "categorical":
        return True
    if kind in ("mean", "median"):
        return False
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _number_rows(var: Variable, values: pd.Series, groups: dict[str, np.ndarray],
                 summary: str) -> list[dict]:
    rows = []
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    for name, mask in groups.items():
        x = numbers[mask].dropna().to_numpy()
        n_missing = int(mask.sum()) - x.size
        row = dict.fromkeys(DESCRIBE_COLUMNS, np.nan) | {
            "variable": var.column, "label": var.label, "level": pd.NA, "group": name,
            "summary": summary, "n": x.size, "n_missing": n_missing,
        }  # fmt: skip
        if x.size:
            q1, median, q3 = np.quantile(x, [0.25, 0.5, 0.75])
            row |= {"mean": x.mean(), "sd": x.std(ddof=1) if x.size > 1 else np.nan,
                    "median": median, "q1": q1, "q3": q3}  # fmt: skip
        rows.append(row)
    return rows


def _levels(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    if pd.api.types.is_bool_dtype(series):
        return [True]
    return sorted(series.dropna().unique().tolist(), key=str)


def _category_rows(var: Variable, values: pd.Series, groups: dict[str, np.ndarray]) -> list[dict]:
    rows = []
    for level in _levels(values):
        for name, mask in groups.items():
            x = values[mask]
            present = x.notna()
            count = int((x[present] == level).sum())
            n = int(present.sum())
            rows.append(dict.fromkeys(DESCRIBE_COLUMNS, np.nan) | {
                "variable": var.column, "label": var.label, "level": level, "group": name,
                "summary": "count", "n": n, "n_missing": int((~present).sum()),
                "count": count, "percent": 100 * count / n if n else np.nan,
            })  # fmt: skip
    return rows


def _describe(frame: pd.DataFrame, group: str, variables: Sequence[Variable],
              order: list[str], overall: bool, skew_threshold: float) -> pd.DataFrame:
    masks = {name: (frame[group].astype(str) == name).to_numpy() for name in order}
    if overall:
        masks["Overall"] = frame[group].notna().to_numpy()
    rows: list[dict] = []
    for var in variables:
        if var.column not in frame.columns:
            raise ValueError(f"variable {var.column!r} is not a column of the data; columns: "
                             f"{', '.join(map(str, frame.columns))}.")
        values = frame[var.column]
        if _is_categorical(values, var.kind):
            rows += _category_rows(var, values, masks)
            continue
        summary = {"mean": "mean_sd", "median": "median_iqr"}.get(var.kind)
        if summary is None:
            pooled = pd.to_numeric(values, errors="coerce").astype(float).dropna()
            skew = float(pooled.skew()) if pooled.size > 2 and pooled.std() > 0 else 0.0
            summary = "median_iqr" if abs(skew) > skew_threshold else "mean_sd"
        rows += _number_rows(var, values, masks, summary)
    table = pd.DataFrame(rows, columns=DESCRIBE_COLUMNS)
    table["level"] = table["level"].astype(object)
    return table


def _smd(frame: pd.DataFrame, group: str, var: Variable, order: list[str],
         categorical: bool) -> float:
    """Absolute standardised mean difference; the mean over pairs of arms beyond two (as
    R tableone). Continuous: (m2 - m1) / sqrt((s1^2 + s2^2) / 2); categorical: Yang and
    Dalton's (2012) multinomial form."""
    values = frame[var.column]
    samples = [values[(frame[group].astype(str) == name).to_numpy()].dropna() for name in order]
    pairs = [(i, j) for i in range(len(order)) for j in range(i + 1, len(order))]
    out = []
    for i, j in pairs:
        a, b = samples[i], samples[j]
        if len(a) < 2 or len(b) < 2:
            continue
        if categorical:
            levels = _levels(values)
            if len(levels) == 1:  # booleans: the proportion of True
                levels = [True, False]
            p = np.array([[np.mean(s == level) for level in levels] for s in (a, b)])[:, 1:]
            cov = [np.diag(q) - np.outer(q, q) for q in p]
            diff = p[1] - p[0]
            pooled = (cov[0] + cov[1]) / 2
            out.append(float(np.sqrt(max(diff @ np.linalg.pinv(pooled) @ diff, 0.0))))
        else:
            a, b = a.astype(float).to_numpy(), b.astype(float).to_numpy()
            denominator = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
            out.append(abs(b.mean() - a.mean()) / denominator if denominator > 0 else 0.0)
    return float(np.mean(out)) if out else np.nan


def _p_value(frame: pd.DataFrame, group: str, var: Variable, order: list[str],
             summary: str) -> tuple[float, str]:
    values = frame[var.column]
    samples = [values[(frame[group].astype(str) == name).to_numpy()].dropna() for name in order]
    if summary == "count":
        levels = _levels(values)
        if len(levels) == 1:
            levels = [True, False]
        observed = np.array([[int((s == level).sum()) for level in levels] for s in samples])
        observed = observed[:, observed.sum(axis=0) > 0]
        if observed.shape[1] < 2:
            return np.nan, ""
        expected = stats.contingency.expected_freq(observed)
        if observed.shape == (2, 2) and (expected < 5).any():
            return float(stats.fisher_exact(observed).pvalue), "Fisher's exact test"
        return float(stats.chi2_contingency(observed, correction=False).pvalue), "chi-square test"
    numbers = [s.astype(float).to_numpy() for s in samples]
    if any(x.size < 2 for x in numbers):
        return np.nan, ""
    if summary == "mean_sd":
        if len(numbers) == 2:
            return float(stats.ttest_ind(*numbers, equal_var=False).pvalue), "Welch t test"
        return float(stats.f_oneway(*numbers).pvalue), "one-way ANOVA"
    if len(numbers) == 2:
        return float(stats.mannwhitneyu(*numbers).pvalue), "Wilcoxon rank-sum test"
    return float(stats.kruskal(*numbers).pvalue), "Kruskal-Wallis test"


def _fmt(value: float, digits: int) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        f"{value:.{digits}f}"
    )


def _cell_text(row: pd.Series, digits: int) -> str:
    if row["summary"] == "count":
        return f"{int(row['count'])} ({_fmt(row['percent'], 1)}%)" if row["n"] else "\u2013"
    if row["n"] == 0:
        return "\u2013"
    if row["summary"] == "mean_sd":
        sd = _fmt(row["sd"], digits)
        return f"{_fmt(row['mean'], digits)} ({sd or 'NA'})"
    q = f"{_fmt(row['q1'], digits)}, {_fmt(row['q3'], digits)}"
    return f"{_fmt(row['median'], digits)} [{q}]"


#: How a printed table spells the codes of a participants column (the data keep the codes).
LEVEL_LABELS = {"sex": {"F": "Female", "M": "Male"}}


def _level_text(level: Any, variable: str | None = None) -> str:
    if isinstance(level, bool):
        return {True: "Yes", False: "No"}[level]
    return LEVEL_LABELS.get(variable, {}).get(str(level), str(level))


def _display(described: pd.DataFrame, columns: list[str], header: dict[str, str],
             digits: int, extra: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    """Wide printed form of a described frame: one block per variable."""
    rows = []
    extra_names = list(extra)
    for variable, block in described.groupby("variable", sort=False):
        first = block.iloc[0]
        extras = {name: extra[name].get(variable, "") for name in extra_names}
        if first["summary"] == "count":
            levels = list(dict.fromkeys(block["level"].tolist()))
            single = len(levels) == 1 and levels[0] is True
            unit = ", n (%)"
            if single:
                cells = block.set_index("group")
                rows.append({"": first["label"] + unit} | {
                    header[g]: _cell_text(cells.loc[g], digits) for g in columns} | extras)
            else:
                rows.append({"": first["label"] + unit} | dict.fromkeys(
                    [header[g] for g in columns], "") | extras)
                for level in levels:
                    cells = block[block["level"] == level].set_index("group")
                    rows.append({"": INDENT + _level_text(level, variable)} | {
                        header[g]: _cell_text(cells.loc[g], digits) for g in columns}
                        | dict.fromkeys(extra_names, ""))  # fmt: skip
            missing = block.drop_duplicates("group").set_index("group")["n_missing"]
        else:
            cells = block.set_index("group")
            unit = ", mean (SD)" if first["summary"] == "mean_sd" else ", median [IQR]"
            rows.append({"": first["label"] + unit} | {
                header[g]: _cell_text(cells.loc[g], digits) for g in columns} | extras)
            missing = cells["n_missing"]
        if missing.sum() > 0:
            rows.append({"": INDENT + "Missing, n"} | {
                header[g]: str(int(missing[g])) for g in columns}
                | dict.fromkeys(extra_names, ""))  # fmt: skip
    return pd.DataFrame(rows, columns=[""] + [header[g] for g in columns] + extra_names)


def _prepare(source: Trial | pd.DataFrame, group: str,
             group_labels: Mapping[str, str] | None) -> tuple[pd.DataFrame, list[str], dict]:
    if isinstance(source, Trial):
        frame = baseline_characteristics(source)
        labels = _arm_labels(source) | dict(group_labels or {})
        order = _arm_order(source)
    elif isinstance(source, pd.DataFrame):
        frame = source
        if group not in frame.columns:
            raise ValueError(f"group column {group!r} is not in the data; columns: "
                             f"{', '.join(map(str, frame.columns))}.")
        order = _levels(frame[group].astype("category") if not isinstance(
            frame[group].dtype, pd.CategoricalDtype) else frame[group])
        order = [str(g) for g in order]
        labels = {g: g for g in order} | dict(group_labels or {})
    else:
        raise TypeError(f"source must be a Trial or a DataFrame, got {type(source).__name__}.")
    return frame, order, labels


def table_one(
    source: Trial | pd.DataFrame,
    *,
    group: str = "arm",
    variables: Sequence[Variable] | None = None,
    options: TableOneOptions | None = None,
    group_labels: Mapping[str, str] | None = None,
) -> ManuscriptTable:
    """Table 1: baseline characteristics by arm and overall.

    Parameters
    ----------
    source : Trial or pandas.DataFrame
        A trial (its :func:`baseline_characteristics` are described) or any frame with
        one row per participant.
    group : str
        Column with the arm.
    variables : sequence of Variable, optional
        Rows, in order. Default: every column but ``group`` and ``participant_id``;
        for a trial: age, sex, site, weight, height, BMI, resting heart rate,
        beta-blocker use and each baseline score, those present.
    options : TableOneOptions, optional
    group_labels : mapping, optional
        Column headings for arm codes (default: the protocol's arm labels).

    Returns
    -------
    ManuscriptTable
        ``data``: one row per variable (and level) and group (the arms, then
        ``"Overall"``), columns ``variable, label, level, group, summary, n, n_missing,
        mean, sd, median, q1, q3, count, percent, smd, p_value, test``; ``smd``,
        ``p_value`` and ``test`` repeat on each row of a variable.

    Notes
    -----
    Numbers are mean (SD) (SD with n - 1) or, when skewed (|skewness| >
    ``options.skew_threshold``), median [IQR] (quartiles by linear interpolation,
    numpy's default, R type 7). Counts are n (%) of the participants with a value;
    missing values are counted on their own row. The SMD is absolute: for numbers
    ``|m2 - m1| / sqrt((s1^2 + s2^2) / 2)``, for categories the multivariate form of
    Yang and Dalton (2012); with more than two arms the mean over pairs. P-values (only
    with ``options.pvalues``): Welch t test or Wilcoxon rank-sum (ANOVA or
    Kruskal-Wallis beyond two arms) as the summary; Pearson chi-square, or Fisher's
    exact test for a 2 x 2 table with an expected count below 5.

    References
    ----------
    Yang D, Dalton JE (2012). A unified approach to measuring the effect size between two
    groups using SAS. SAS Global Forum, paper 335.
    Austin PC (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups. Stat Med 28:3083-3107.

    Examples
    --------
    >>> import ketex
    >>> from ketex.report.tables import table_one
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> t1 = table_one(trial)
    >>> t1.display.iloc[0, 0], t1.display.columns[1]
    ('Age, years, mean (SD)', 'Single ketamine infusion + exercise (N = 40)')
    >>> age = t1.data[(t1.data.variable == "age") & (t1.data.group == "Overall")]
    >>> bool(abs(age["mean"].iloc[0] - trial.participants["age"].mean()) < 1e-12)
    True
    """
    options = options or TableOneOptions()
    frame, order, labels = _prepare(source, group, group_labels)
    variables = (list(variables) if variables is not None
                 else _default_variables(frame, group))
    described = _describe(frame, group, variables, order, options.overall,
                          options.skew_threshold)  # fmt: skip
    counts = {g: int((frame[group].astype(str) == g).sum()) for g in order}
    counts["Overall"] = int(frame[group].notna().sum())
    columns = order + (["Overall"] if options.overall else [])
    header = {g: f"{labels.get(g, g)} (N = {counts[g]})" for g in columns}
    smd, pvalue, test = {}, {}, {}
    for var in variables:
        summary = described.loc[described["variable"] == var.column, "summary"].iloc[0]
        categorical = summary == "count"
        smd[var.column] = _smd(frame, group, var, order, categorical) if options.smd else np.nan
        if options.pvalues:
            pvalue[var.column], test[var.column] = _p_value(frame, group, var, order, summary)
    described["smd"] = described["variable"].map(smd).astype(float)
    described["p_value"] = described["variable"].map(pvalue).astype(float)
    described["test"] = described["variable"].map(test).astype("string")
    extra: dict[str, dict[str, str]] = {}
    if options.smd:
        extra["SMD"] = {k: _fmt(v, 2) for k, v in smd.items()}
    if options.pvalues:
        extra["p"] = {k: format_p(v) for k, v in pvalue.items()}
    display = _display(described, columns, header, options.digits, extra)
    notes = [
        "Values are mean (SD), median [IQR] (for numbers with |skewness| > "
        f"{options.skew_threshold:g}) or n (%) of participants with a value.",
    ]
    if options.smd:
        notes.append("SMD: absolute standardised mean difference between arms (Yang and "
                     "Dalton 2012 for categories); |SMD| > 0.1 is often read as imbalance.")
    if options.pvalues:
        used = sorted({t for t in test.values() if t})
        notes.append("p: " + "; ".join(used) + ".")
    return ManuscriptTable(described, display, "Table 1. Baseline characteristics by arm",
                           tuple(notes), "table1_baseline")  # fmt: skip


# -- MMRM table -------------------------------------------------------------------------------


def mmrm_table(
    fit,
    *,
    arm: str = "ARM",
    visit: str = "AVISIT",
    reference: str | None = None,
    group_labels: Mapping[str, str] | None = None,
    primary_visit: str | None = None,
    outcome: str = "Change from baseline",
) -> ManuscriptTable:
    """LS-means by visit and arm, and differences between arms with 95% CI and p.

    Parameters
    ----------
    fit : ketex.MMRMResult
        A fitted MMRM with ``arm`` and ``visit`` factors and their interaction.
    arm, visit : str
        The factor names in the model.
    reference : str, optional
        The arm subtracted in differences (default: the first level of ``arm``).
    group_labels : mapping, optional
        Column headings for arm levels.
    primary_visit : str, optional
        Marked with ``*`` in the table and named in the notes.
    outcome : str
        What the LS-means are of, for the title.

    Returns
    -------
    ManuscriptTable
        ``data``: ``visit, arm, kind, estimate, se, df, ci_low, ci_high, p_value``; one
        row per visit and arm (``kind = "lsmean"``) and per visit and comparison
        (``kind = "difference"``, ``arm`` = ``"B - A"``).

    Examples
    --------
    >>> import ketex
    >>> from ketex.report.analysis import primary_mmrm
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> table = mmrm_table(primary_mmrm(trial), primary_visit="WEEK12")
    >>> list(table.display.columns)[-2:]
    ['Difference (95% CI)', 'p']
    >>> table.data.query("kind == 'difference'")["arm"].unique().tolist()
    ['SERIES - SINGLE']
    """
    lsmeans = fit.lsmeans(arm, by=visit)
    levels = list(dict.fromkeys(lsmeans[arm].astype(str)))
    reference = levels[0] if reference is None else reference
    if reference not in levels:
        raise ValueError(f"reference {reference!r} is not a level of {arm!r}: {levels}.")
    diffs = fit.contrast(arm, by=visit, method="trt_vs_ctrl", reference=reference)
    keep = ["estimate", "se", "df", "ci_low", "ci_high", "p_value"]
    data = pd.concat([
        lsmeans.rename(columns={visit: "visit", arm: "arm"}).assign(kind="lsmean"),
        diffs.rename(columns={visit: "visit", "contrast": "arm"}).assign(kind="difference"),
    ], ignore_index=True)[["visit", "arm", "kind"] + keep]  # fmt: skip
    data["visit"] = data["visit"].astype(str)
    data["arm"] = data["arm"].astype(str)
    labels = {g: g for g in levels} | dict(group_labels or {})
    comparisons = list(dict.fromkeys(data.loc[data["kind"] == "difference", "arm"]))
    if len(comparisons) > 1:
        display = _mmrm_long(data, levels, reference, labels, primary_visit)
    else:
        display = _mmrm_wide(data, levels, comparisons, labels, primary_visit)
    notes = [
        f"LS means of {outcome[:1].lower() + outcome[1:] if outcome[1:2].islower() else outcome}"
        " from the mixed model for repeated measures "
        f"({fit._frame.formula}; {model_in_words([fit.covariance], fit.method, fit.df_method)}"
        f"); {fit.n_subjects} participants, "
        f"{fit.n_obs} observations.",
        "Differences: " + "; ".join(comparisons) + ", with 95% CI and two-sided p "
        "(not adjusted for multiplicity).",
    ]
    if len(comparisons) > 1:
        notes.append(f"One row per visit and arm: the arm's LS mean and its difference from "
                     f"{labels[reference]} ({reference}).")
    if primary_visit is not None:
        notes.append(f"* Primary visit ({primary_visit}).")
    return ManuscriptTable(data, display, f"Table 2. {outcome}: LS means by visit "
                           "and arm", tuple(notes), "table2_mmrm")  # fmt: skip


def _mmrm_wide(data: pd.DataFrame, levels: list[str], comparisons: list[str],
               labels: Mapping[str, str], primary_visit: str | None) -> pd.DataFrame:
    """Two arms: one row per visit, a column per arm's LS mean, then the difference and p."""
    rows = []
    for name, block in data.groupby("visit", sort=False):
        mark = "*" if primary_visit is not None and name == primary_visit else ""
        row = {"Visit": f"{name}{mark}"}
        cells = block.set_index("arm")
        for level in levels:
            r = cells.loc[level]
            row[f"{labels[level]}, LS mean (SE)"] = f"{r['estimate']:.1f} ({r['se']:.2f})"
        for comparison in comparisons:
            r = cells.loc[comparison]
            row["Difference (95% CI)"] = format_estimate_ci(r)
            row["p"] = format_p(r["p_value"])
        rows.append(row)
    return pd.DataFrame(rows)


def _mmrm_long(data: pd.DataFrame, levels: list[str], reference: str,
               labels: Mapping[str, str], primary_visit: str | None) -> pd.DataFrame:
    """More than two arms: one row per visit and arm (five columns, whatever the number of
    arms, so the table keeps to the page): the LS mean and the difference from the
    reference arm (blank on the reference's own row); the visit named on its first row."""
    rows = []
    for name, block in data.groupby("visit", sort=False):
        mark = "*" if primary_visit is not None and name == primary_visit else ""
        cells = block.set_index("arm")
        for i, level in enumerate(levels):
            r = cells.loc[level]
            row = {"Visit": f"{name}{mark}" if i == 0 else "", "Arm": labels[level],
                   "LS mean (SE)": f"{r['estimate']:.1f} ({r['se']:.2f})",
                   "Difference (95% CI)": "", "p": ""}  # fmt: skip
            comparison = f"{level} - {reference}"
            if level != reference and comparison in cells.index:
                d = cells.loc[comparison]
                row["Difference (95% CI)"] = format_estimate_ci(d)
                row["p"] = format_p(d["p_value"])
            rows.append(row)
    return pd.DataFrame(rows)


# -- endpoint table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """A binary endpoint of the endpoint table.

    Parameters
    ----------
    label : str
        Row label (``"Response at WEEK12"``).
    rule : endpoint rule or str
        Anything :func:`ketex.evaluate_endpoint` takes, or a preset name.
    desirable : bool
        True when more is better (response, remission), False for relapse: sets the
        direction of the number needed to treat.
    """

    label: str
    rule: Any
    desirable: bool = True


def default_endpoints(trial: Trial) -> tuple[Endpoint, ...]:
    """The endpoints the protocol pre-specifies: response and remission at the primary
    visit, sustained response through ``sustained_through_visit``, and relapse
    (the protocol's ``relapse_preset``) among those who met its entry condition.

    Only those the trial can evaluate (their scale rated, their visits scheduled);
    :func:`skipped_endpoints` says why the others are left out.

    Examples
    --------
    >>> import ketex
    >>> for e in default_endpoints(ketex.load_trial(ketex.sample_study_path())):
    ...     print(e.label)
    Response at WEEK12
    Remission (MADRS<=10) at WEEK12
    Sustained response WEEK12-WEEK24
    Relapse (SUSTAIN-1) among responders
    """
    from ketex.report.applicability import endpoint_reason

    return tuple(e for e in _protocol_endpoints(trial)
                 if endpoint_reason(trial, e.rule, e.label) is None)


def skipped_endpoints(trial: Trial) -> tuple[str, ...]:
    """Why each endpoint the protocol names is left out of :func:`default_endpoints`.

    Examples
    --------
    >>> import ketex
    >>> skipped_endpoints(ketex.load_trial(ketex.sample_study_path()))
    ()
    """
    from ketex.report.applicability import endpoint_reason

    reasons = (endpoint_reason(trial, e.rule, e.label) for e in _protocol_endpoints(trial))
    return tuple(r for r in reasons if r is not None)


def _protocol_endpoints(trial: Trial) -> tuple[Endpoint, ...]:
    """The secondary endpoints of the plan (``[analysis.secondary]``, defaults from
    ``[endpoints]``: :func:`ketex.study.secondary_plan.secondary_endpoints`)."""
    from ketex.study.secondary_plan import secondary_endpoints

    return tuple(Endpoint(e.label, e.rule, e.desirable)
                 for e in secondary_endpoints(trial.protocol))


def endpoint_table(
    trial: Trial,
    endpoints: Sequence[Endpoint] | None = None,
    *,
    missing: Literal["exclude", "failure"] = "exclude",
    conf_level: float = 0.95,
    group_labels: Mapping[str, str] | None = None,
) -> ManuscriptTable:
    """Binary endpoints by arm with Wilson CIs, the risk difference and the NNT.

    Parameters
    ----------
    trial : Trial
    endpoints : sequence of Endpoint, optional
        Default: :func:`default_endpoints`.
    missing : {"exclude", "failure"}
        A participant whose outcome is missing (e.g. a missed primary visit) is left
        out of the denominator (``"exclude"``, observed cases) or counted as not
        meeting the endpoint (``"failure"``, non-responder imputation): the words of
        the rules' ``missing=`` (``ketex.derive.endpoints.MISSING_POLICIES``).
    conf_level : float
    group_labels : mapping, optional

    Returns
    -------
    ManuscriptTable
        ``data``: ``endpoint, kind, group, events, n, n_missing, n_not_eligible,
        estimate, ci_low, ci_high, nnt`` with ``kind = "rate"`` (per arm; Wilson CI)
        or ``"risk difference"`` (other arm minus the first; Newcombe CI; ``nnt`` as
        Altman writes it, unrounded; the printed table rounds it up).

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> t = endpoint_table(trial)
    >>> t.data.query("kind == 'rate'")[["group", "events", "n", "n_missing"]].head(2)
        group  events   n  n_missing
    0  SINGLE      10  36          4
    1  SERIES      13  39          1
    """
    from ketex.derive.endpoints import endpoint_preset
    from ketex.derive.evaluate import evaluate_endpoint

    if missing not in ("exclude", "failure"):
        raise ValueError(f"missing must be 'exclude' or 'failure', got {missing!r}.")
    from ketex.study.derivation_plan import derivation_options

    endpoints = default_endpoints(trial) if endpoints is None else tuple(endpoints)
    derivation = derivation_options(trial.protocol)  # [analysis.derivation]
    order = _arm_order(trial)
    labels = _arm_labels(trial) | dict(group_labels or {})
    reference = order[0]
    rows = []
    printed: dict[tuple[str, str], str] = {}  # the NNT as the table prints it, rounded up
    for endpoint in endpoints:
        rule = endpoint_preset(endpoint.rule) if isinstance(endpoint.rule, str) else endpoint.rule
        result = evaluate_endpoint(trial, rule, **derivation)
        counts = {}
        for arm in order:
            r = result[result["arm"].astype(str) == arm]
            eligible = r["eligible"].fillna(False).astype(bool)
            met = r.loc[eligible, "met"]
            n_missing = int(met.isna().sum())
            events = int(met.fillna(False).astype(bool).sum())
            n = int(eligible.sum()) - (n_missing if missing == "exclude" else 0)
            counts[arm] = (events, n)
            rate, low, high = _effects.wilson(events, n, conf_level)
            rows.append({"endpoint": endpoint.label, "kind": "rate", "group": arm,
                         "events": events, "n": n, "n_missing": n_missing,
                         "n_not_eligible": int((~eligible).sum()), "estimate": rate,
                         "ci_low": low, "ci_high": high, "nnt": ""})  # fmt: skip
        x0, n0 = counts[reference]
        for arm in order[1:]:
            x1, n1 = counts[arm]
            d, low, high = _effects.risk_difference(x1, n1, x0, n0, conf_level)
            nnt = _effects.nnt(x1, n1, x0, n0, desirable=endpoint.desirable,
                               conf_level=conf_level)  # fmt: skip
            printed[(endpoint.label, f"{arm} - {reference}")] = (
                "" if nnt is None else nnt.rounded_text
            )
            rows.append({"endpoint": endpoint.label, "kind": "risk difference",
                         "group": f"{arm} - {reference}", "events": pd.NA, "n": pd.NA,
                         "n_missing": pd.NA, "n_not_eligible": pd.NA, "estimate": d,
                         "ci_low": low, "ci_high": high,
                         "nnt": "" if nnt is None else nnt.text})  # fmt: skip
    data = pd.DataFrame(rows)
    for column in ("events", "n", "n_missing", "n_not_eligible"):
        data[column] = data[column].astype("Int64")
    data["nnt"] = data["nnt"].astype("string")
    display = _endpoint_display(data, order, labels, len(order) > 2, printed)
    level = f"{100 * conf_level:g}%"
    notes = [
        f"n/N (%) [{level} Wilson CI]; N = participants "
        + ("with an observed outcome (observed cases)" if missing == "exclude"
           else "eligible, a missing outcome counted as not met") + ".",
        f"Risk difference: {', '.join(f'{a} - {reference}' for a in order[1:])}, in "
        f"percentage points, {level} Newcombe hybrid score CI. NNT: number needed to treat "
        "(NNTB benefit, NNTH harm; Altman 1998), rounded up to whole participants; "
        "\u221e: the interval includes no difference.",
    ]  # fmt: skip
    if len(order) > 2:
        notes.append(f"One row per endpoint and arm: the arm's rate and its risk difference "
                     f"from {labels.get(reference, reference)} ({reference}).")
    if any(not e.desirable for e in endpoints):
        notes.append("Relapse is counted among participants who met the relapse rule's entry "
                     "condition.")
    return ManuscriptTable(data, display, "Table 3. Response, remission, sustained response "
                           "and relapse by arm", tuple(notes), "table3_endpoints")  # fmt: skip


def _endpoint_display(data: pd.DataFrame, order: list[str], labels: Mapping[str, str],
                      many: bool, printed: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    if many:
        return _endpoint_long(data, order, labels, printed)
    rows = []
    for endpoint, block in data.groupby("endpoint", sort=False):
        row = {"Endpoint": endpoint}
        rates = block[block["kind"] == "rate"].set_index("group")
        for arm in order:
            row[labels.get(arm, arm)] = _rate_text(rates.loc[arm])
        for _, r in block[block["kind"] == "risk difference"].iterrows():
            row["Risk difference (95% CI)"] = _difference_text(r)
            row["NNT"] = printed[(endpoint, r["group"])]
        rows.append(row)
    return pd.DataFrame(rows)


def _endpoint_long(data: pd.DataFrame, order: list[str], labels: Mapping[str, str],
                   printed: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """More than two arms: one row per endpoint and arm (five columns, whatever the number
    of arms): the arm's rate, and its risk difference from the first arm and NNT (blank on
    the first arm's own row); the endpoint named on its first row."""
    rows = []
    reference = order[0]
    for endpoint, block in data.groupby("endpoint", sort=False):
        rates = block[block["kind"] == "rate"].set_index("group")
        differences = block[block["kind"] == "risk difference"].set_index("group")
        for i, arm in enumerate(order):
            r = rates.loc[arm]
            row = {"Endpoint": endpoint if i == 0 else "", "Arm": labels.get(arm, arm),
                   "n/N (%) [95% CI]": _rate_text(r), "Risk difference (95% CI)": "",
                   "NNT": ""}  # fmt: skip
            comparison = f"{arm} - {reference}"
            if arm != reference and comparison in differences.index:
                d = differences.loc[comparison]
                row["Risk difference (95% CI)"] = _difference_text(d)
                row["NNT"] = printed[(endpoint, comparison)]
            rows.append(row)
    return pd.DataFrame(rows)


def _rate_text(r) -> str:
    return (f"{r['events']}/{r['n']} ({100 * r['estimate']:.1f}%) "
            f"[{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]" if r["n"] else "\u2013")


def _difference_text(r) -> str:
    return (f"{100 * r['estimate']:.1f} ({100 * r['ci_low']:.1f} to "
            f"{100 * r['ci_high']:.1f})" if not math.isnan(r["estimate"]) else "\u2013")


# -- survival table ---------------------------------------------------------------------------


def survival_table(
    data: pd.DataFrame,
    *,
    order: Sequence[str] | None = None,
    group_labels: Mapping[str, str] | None = None,
    time: str = "AVAL",
    event: str = "event",
    group: str = "ARM",
    title: str = "Time to relapse",
    conf_level: float = 0.95,
) -> ManuscriptTable:
    """Events, median time with CI (Kaplan-Meier), hazard ratio with CI (Cox), log-rank p.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant: a :class:`ketex.TimeToEvent` ``table`` (``AVAL``,
        ``event``, ``ARM``) or any frame with the named columns.
    order : sequence of str, optional
        Arm order; the first is the reference of the hazard ratio.
    group_labels : mapping, optional
    time, event, group : str
        Column names.
    title : str
    conf_level : float

    Returns
    -------
    ManuscriptTable
        ``data``: ``group, kind, n, events, estimate, ci_low, ci_high, p_value``:
        ``kind = "median"`` per arm (days; Brookmeyer-Crowley CI, log-log),
        ``"hazard ratio"`` per comparison (Cox, Efron ties, Wald CI and p) and
        ``"log-rank"`` (chi-square p).

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> tte = ketex.time_to_event(trial, "SUSTAIN-1").table
    >>> t = survival_table(tte, order=["SINGLE", "SERIES"])
    >>> t.data["kind"].tolist()
    ['median', 'median', 'hazard ratio', 'log-rank']
    """
    from ketex.report import _survival

    frame = data[[time, event, group]].copy()
    frame[group] = frame[group].astype(str)
    order = list(order) if order is not None else sorted(frame[group].unique())
    frame[group] = pd.Categorical(frame[group], categories=order)
    frame[event] = frame[event].astype(bool).astype(int)
    labels = {g: g for g in order} | dict(group_labels or {})
    km = _survival.kaplan_meier(frame, time=time, event=event, group=group,
                                conf_level=conf_level)  # fmt: skip
    medians = km.median
    rows = [{"group": str(r["group"]), "kind": "median", "n": int(r["n"]),
             "events": int(r["n_event"]), "estimate": r["median"], "ci_low": r["ci_low"],
             "ci_high": r["ci_high"], "p_value": np.nan} for _, r in medians.iterrows()]
    hazard = _survival.hazard_ratios(frame, time=time, event=event, group=group,
                                     conf_level=conf_level)  # fmt: skip
    for _, r in hazard.iterrows():
        rows.append({"group": r["group"], "kind": "hazard ratio", "n": pd.NA, "events": pd.NA,
                     "estimate": r["hazard_ratio"], "ci_low": r["ci_low"],
                     "ci_high": r["ci_high"], "p_value": r["p_value"]})  # fmt: skip
    logrank_p = _survival.logrank_p(frame, time=time, event=event, group=group)
    rows.append({"group": " vs ".join(order), "kind": "log-rank", "n": pd.NA, "events": pd.NA,
                 "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                 "p_value": logrank_p})  # fmt: skip
    table = pd.DataFrame(rows)
    table[["n", "events"]] = table[["n", "events"]].astype("Int64")
    display_rows = []
    hr = hazard.set_index("group")
    for _, r in table[table["kind"] == "median"].iterrows():
        arm = r["group"]
        comparison = f"{arm} - {order[0]}"
        hr_text = "1 (reference)" if arm == order[0] else (
            f"{hr.loc[comparison, 'hazard_ratio']:.2f} ({hr.loc[comparison, 'ci_low']:.2f} to "
            f"{hr.loc[comparison, 'ci_high']:.2f})" if comparison in hr.index
            and pd.notna(hr.loc[comparison, "hazard_ratio"]) else
            "not estimable" if comparison in hr.index else "")
        display_rows.append({
            "Arm": labels.get(arm, arm),
            "N": str(r["n"]),
            "Events, n (%)": f"{r['events']} ({100 * r['events'] / r['n']:.1f}%)"
            if r["n"] else "0",
            "Median, days (95% CI)": _median_text(r),
            "Hazard ratio (95% CI)": hr_text,
            "p": "" if arm == order[0] or comparison not in hr.index
            or pd.isna(hr.loc[comparison, "p_value"]) else format_p(hr.loc[comparison,
                                                                            "p_value"]),
        })  # fmt: skip
    level = f"{100 * conf_level:g}%"
    notes = (
        f"Median time from Kaplan-Meier curves with {level} Brookmeyer-Crowley CI (log-log); "
        "NR: not reached.",
        f"Hazard ratio from a Cox model with arm as the only covariate (Efron ties), {level} "
        f"Wald CI and p; log-rank p = {format_p(logrank_p)}.",
        *(("Not estimable: the arm or the reference arm has no event (the Cox "
           "likelihood has no maximum).",) if hazard["hazard_ratio"].isna().any() else ()),
    )
    return ManuscriptTable(table, pd.DataFrame(display_rows), f"Table 4. {title}", notes,
                           "table4_survival")  # fmt: skip


def _median_text(row: pd.Series) -> str:
    def one(v: float) -> str:
        return "NR" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0f}"

    return f"{one(row['estimate'])} ({one(row['ci_low'])} to {one(row['ci_high'])})"


# -- exercise adherence ------------------------------------------------------------------------


def adherence_table(
    trial: Trial,
    *,
    digits: int = 1,
    attendance_threshold: float = 0.8,
    group_labels: Mapping[str, str] | None = None,
) -> ManuscriptTable:
    """Exercise and infusion adherence by arm.

    Parameters
    ----------
    trial : Trial
    digits : int
    attendance_threshold : float
        Participants attending at least this share of prescribed sessions are counted.
    group_labels : mapping, optional

    Returns
    -------
    ManuscriptTable
        ``data`` as :func:`table_one`'s (without SMD and p), one block per measure:
        sessions prescribed, attended and completed, attendance (%), participants at or
        above ``attendance_threshold``, weekly energy expenditure (KKW), dose adherence
        (%), time in the prescribed heart-rate zone (%), infusions received and
        received as planned.

    Notes
    -----
    Measures come from :func:`ketex.exercise_dose` (``by="participant"``) and
    :func:`ketex.infusion_exposure`; see ``docs/exercise-dose.md`` for their rules.

    Examples
    --------
    >>> import ketex
    >>> t = adherence_table(ketex.load_trial(ketex.sample_study_path()))
    >>> t.display.iloc[0, 0]
    'Sessions prescribed, median [IQR]'
    """
    from ketex.derive.exercise import exercise_dose
    from ketex.derive.infusions import infusion_exposure

    dose = exercise_dose(trial, by="participant")
    frame = pd.DataFrame({
        "participant_id": dose["participant_id"].astype(str),
        "arm": pd.Categorical(dose["arm"].astype(str), categories=_arm_order(trial)),
        "sessions_prescribed": dose["sessions_prescribed"].astype(float),
        "sessions_attended": dose["sessions_attended"].astype(float),
        "sessions_completed": dose["sessions_completed"].astype(float),
        "attendance_pct": 100 * dose["attendance"],
        "attendance_met": (dose["attendance"] >= attendance_threshold).astype("boolean")
        .mask(dose["attendance"].isna()),
        "kkw": dose["kkw"],
        "dose_adherence_pct": 100 * dose["dose_adherence"],
        "intensity_fidelity_pct": 100 * dose["intensity_fidelity"],
    })  # fmt: skip
    exposure = infusion_exposure(trial)
    received = exposure.groupby("participant_id")[
        ["infusions_received", "infusions_on_planned_days", "infusions_planned"]].sum()
    ids = frame["participant_id"]
    frame["infusions_received"] = ids.map(received["infusions_received"]).astype(float)
    planned = ids.map(received["infusions_planned"]).astype(float)
    frame["infusions_as_planned"] = (
        ids.map(received["infusions_on_planned_days"]).astype(float) >= planned)
    variables = [
        Variable("sessions_prescribed", "Sessions prescribed", "median"),
        Variable("sessions_attended", "Sessions attended", "median"),
        Variable("sessions_completed", "Sessions completed", "median"),
        Variable("attendance_pct", "Attendance, % of prescribed sessions", "mean"),
        Variable("attendance_met", f"Attendance \u2265 {100 * attendance_threshold:g}%",
                 "categorical"),
        Variable("kkw", "Energy expenditure, kcal/kg/week (KKW)", "mean"),
        Variable("dose_adherence_pct", "Dose adherence, % of target KKW", "mean"),
        Variable("intensity_fidelity_pct", "Minutes in prescribed heart-rate zone, %", "mean"),
        Variable("infusions_received", "Ketamine infusions received", "median"),
        Variable("infusions_as_planned", "All planned infusions received", "categorical"),
    ]  # fmt: skip
    table = table_one(frame, group="arm", variables=variables,
                      options=TableOneOptions(digits=digits, smd=False),
                      group_labels=_arm_labels(trial) | dict(group_labels or {}))  # fmt: skip
    data = table.data.drop(columns=["smd", "p_value", "test"])
    notes = (
        "Values are median [IQR], mean (SD) or n (%).",
        "Exercise measures while on the programme (sessions prescribed end at "
        "discontinuation); KKW = 0.0175 x MET-minutes per week; dose adherence = KKW / "
        "target KKW.",
    )
    return ManuscriptTable(data, table.display, "Table 5. Adherence to exercise and "
                           "infusions by arm", notes, "table5_adherence")  # fmt: skip
