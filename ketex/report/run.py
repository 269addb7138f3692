"""``write_report``: the protocol's pre-specified analysis, written as tables, figures and
one self-contained ``report.html``.

What runs is read from ``study.toml``: the primary scale, the primary visit, the response
reduction, the remission and relapse presets and the sustained-response window
(``[endpoints]``), the arms (the primary analysis's ``reference_arm``, by default the
first, is the reference of every comparison and comes first in every table and figure)
and the exercise prescription. The primary analysis is the protocol's plan
(``[analysis.primary]``), run by :func:`ketex.primary_analysis`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ketex.errors import KetexError
from ketex.primary import plan_in_words
from ketex.report import analysis, layout, tables
from ketex.report import figures as fg
from ketex.report._table import FORMATS, ManuscriptTable, format_p
from ketex.report.applicability import Skipped, not_analysed, subgroup_reason
from ketex.report.context import AnalysisContext
from ketex.report.html import FigureItem, ReportSection, embed_png, render_html
from ketex.report.safety_section import extra_safety_tables, safety_figures
from ketex.report.style import FIGURE_FORMATS, new_figure, publication_style, save_figure
from ketex.study.plan import check_plan_data
from ketex.study.secondary_plan import secondary_endpoints
from ketex.study.trial import Trial

__all__ = ["ReportOptions", "ReportResult", "forest_subgroups", "write_report"]

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ReportOptions:
    """What ``write_report`` writes.

    Parameters
    ----------
    table_formats : tuple of str
        Among ``csv, md, tex, html, docx``.
    figure_formats : tuple of str
        Among ``pdf, svg, png``.
    png_dpi : int
        Resolution of the PNG files.
    html_dpi : int
        Resolution of the images embedded in ``report.html``.
    subgroups : tuple of str, optional
        Subgroups of the forest plot (see :func:`ketex.report.analysis.subgroup_effects`);
        those the data lack are left out and listed in "Not analysed". Default: the
        plan's (``[analysis.subgroups] columns`` of ``study.toml``, each of which must
        exist; without them sex, age, baseline and site); empty: no forest plot.
    table_one_pvalues : bool
        Add p-values to Table 1 (off: CONSORT item 15).
    endpoint_missing : {"exclude", "failure"}
        Missing binary outcomes: observed cases, or counted as not met.
    """

    table_formats: tuple[str, ...] = FORMATS
    figure_formats: tuple[str, ...] = FIGURE_FORMATS
    png_dpi: int = 600
    html_dpi: int = 160
    subgroups: tuple[str, ...] | None = None
    table_one_pvalues: bool = False
    endpoint_missing: str = "exclude"

    def __post_init__(self) -> None:
        if self.subgroups is not None:
            object.__setattr__(self, "subgroups", tuple(self.subgroups))
        bad = sorted(set(self.table_formats) - set(FORMATS))
        if bad:
            raise ValueError(f"unknown table formats {bad}; choose from {list(FORMATS)}.")
        bad = sorted(set(self.figure_formats) - set(FIGURE_FORMATS))
        if bad:
            raise ValueError(f"unknown figure formats {bad}; choose from {list(FIGURE_FORMATS)}.")
        if self.endpoint_missing not in ("exclude", "failure"):
            raise ValueError("endpoint_missing must be 'exclude' or 'failure', got "
                             f"{self.endpoint_missing!r}.")  # fmt: skip


@dataclass(frozen=True)
class ReportResult:
    """What ``write_report`` produced.

    Attributes
    ----------
    html : Path
        The self-contained report.
    tables : dict of str to ManuscriptTable
    files : tuple of Path
        Every file written (tables, figures, the report).
    seconds : float
    """

    html: Path
    tables: dict[str, ManuscriptTable] = field(repr=False)
    files: tuple[Path, ...] = field(repr=False)
    seconds: float = 0.0


_STEPS = (
    "Table 1: baseline characteristics",
    "Primary analysis: MMRM",
    "Table 3: binary endpoints",
    "Time to relapse: survival table",
    "Table 5: adherence",
    "Safety tables",
    "Factorial analysis",
    "Estimands and sensitivity analyses",
    "Figure: mean trajectories",
    "Figure: individual trajectories",
    "Figure: Kaplan-Meier",
    "Figure: subgroup forest plot",
    "Figure: swimmer plot",
    "Figure: CONSORT flow",
    "Figure: adherence heat map",
    "Figure: exercise dose vs outcome",
    "report.html",
)


def _quiet(step: int, total: int, name: str) -> None:
    return None


def forest_subgroups(trial: Trial, options: ReportOptions,
                     skipped: list[Skipped]) -> list[str]:
    """The subgroups of the forest plot: ``options.subgroups`` (the command line's
    ``--subgroups``) when given, else the plan's (``[analysis.subgroups]``).

    A subgroup the data lack is appended to ``skipped`` with the reason, unless the plan
    names it (:func:`ketex.study.plan.check_plan_data` refuses such a plan before).

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> skipped = []
    >>> forest_subgroups(trial, ReportOptions(subgroups=("sex", "smoker")), skipped)
    ['sex']
    >>> print(skipped[0])
    Subgroup: subgroup 'smoker': the participants table has no such column with values ...
    """
    wanted = trial.protocol.analysis.subgroups
    chosen = []
    for name in wanted.names if options.subgroups is None else options.subgroups:
        reason = subgroup_reason(trial, name)
        if reason is None or (options.subgroups is None and wanted.explicit):
            chosen.append(name)
        else:
            skipped.append(Skipped("Subgroup", reason))
    return chosen



def _individual_figure(adqs, infusions, arms, labels):
    """The report's individual-trajectories figure: one spaghetti panel per arm, sharing
    the y axis (labelled on the first panel only), each titled with its arm's label
    (wrapped within the panel)."""
    fig, axes = new_figure("double", 70, ncols=len(arms), sharey=True, squeeze=False)
    for ax, code in zip(axes[0], arms, strict=True):
        fg.plot_spaghetti(adqs, infusions, arm=code, ax=ax)
        with publication_style():
            ax.set_title(labels[code], loc="left", fontsize=7.5)
    return fig


def write_report(
    trial: Trial,
    out: str | Path,
    *,
    options: ReportOptions | None = None,
    progress: Progress | None = None,
    source: str | None = None,
    context: AnalysisContext | None = None,
    estimands=None,
) -> ReportResult:
    """Run the pre-specified analysis and write every table, figure and ``report.html``.

    Parameters
    ----------
    trial : Trial
    out : str or Path
        Folder to write into (created): ``tables/``, ``figures/`` and ``report.html``.
    options : ReportOptions, optional
    progress : callable, optional
        Called as ``progress(step, total, name)`` before each step (step from 1) and
        once more with ``step = total + 1`` and name ``"done"``.
    source : str, optional
        Where the data came from, for the report's header.
    context : AnalysisContext, optional
        The trial's analysis context, when you have one already (a notebook): what it
        has computed is not computed again. Default: a new one. Each derived table and
        each model of the report is computed once.
    estimands : EstimandSpec, str or Path, optional
        The estimand settings (:func:`ketex.estimand_spec`), or the study folder (or its
        ``study.toml``) whose ``[estimands]`` table to read (``ketex report`` passes the
        folder). With them the report has a section "Estimands and sensitivity analyses"
        (:func:`ketex.estimand_analyses`); without, that section is listed as not
        analysed.

    Returns
    -------
    ReportResult

    Examples
    --------
    >>> import ketex, tempfile, pathlib
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> options = ReportOptions(table_formats=("csv",), figure_formats=("png",), png_dpi=50,
    ...                         html_dpi=40, subgroups=("sex",))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     result = write_report(trial, folder, options=options)
    ...     print(result.html.name, len(result.tables), result.html.stat().st_size > 10_000)
    report.html 6 True
    """
    started = time.perf_counter()
    if context is None:
        context = AnalysisContext(trial)
    elif context.trial is not trial:
        raise ValueError("context: an AnalysisContext of another trial; build it with "
                         "AnalysisContext(trial) from the trial you report")
    with context:
        return _write(context, out, options or ReportOptions(), progress or _quiet, source,
                      started, estimands)


def _write(context: AnalysisContext, out: str | Path, options: ReportOptions,
           progress: Progress, source: str | None, started: float,
           estimands=None) -> ReportResult:
    """:func:`write_report` with the context entered."""
    trial = context.trial
    check_plan_data(trial)  # a column the plan names that the data lack: stop here
    out = Path(out)
    table_dir, figure_dir = out / "tables", out / "figures"
    files: list[Path] = []
    total = len(_STEPS)
    steps = iter(range(1, total + 1))

    def step() -> None:
        i = next(steps)
        progress(i, total, _STEPS[i - 1])

    protocol = trial.protocol
    arms = list(context.arms)  # the reference arm first
    labels = context.labels
    made: dict[str, ManuscriptTable] = {}
    skipped: list[Skipped] = []
    has_exercise, has_infusions = len(trial.exercise) > 0, len(trial.infusions) > 0

    def keep(table: ManuscriptTable) -> ManuscriptTable:
        made[table.name] = table  # saved once numbered, with the report
        return table

    primary, relapse = _result_tables(context, options, keep, skipped, step)
    if primary is not None:
        fit, mmrm_data, plan = primary.fit, primary.data, primary.plan

    figure_items: dict[str, FigureItem] = {}

    def save(ax_or_fig, name: str, caption: str) -> None:
        fig = getattr(ax_or_fig, "figure", ax_or_fig)
        with publication_style():
            # one layout for the files and the embedded image (same positions in all)
            files.extend(save_figure(fig, figure_dir / name, formats=options.figure_formats,
                                     dpi=options.png_dpi, freeze_layout=True))  # fmt: skip
            figure_items[name] = FigureItem(embed_png(fig, options.html_dpi), caption, name)
        plt.close(fig)

    step()
    factorial = _factorial_part(context, keep, save, skipped)
    step()
    estimand = _estimands_part(context, estimands, primary, keep, save, skipped)
    adqs = context.dataset
    step()
    with not_analysed(skipped, "Mean trajectories (figure)"):
        if primary is None:
            raise KetexError("it shows the primary analysis, which was not analysed")
        fig, axes = new_figure("double", 75, ncols=2)
        fg.plot_trajectory(adqs, ax=axes[0], labels=labels, legend=False)
        fg.plot_trajectory(mmrm_data, value=plan.outcome, fit=fit, ax=axes[1], labels=labels,
                           legend=False)  # fmt: skip
        with publication_style():
            axes[0].set_title("a  Observed score", loc="left")
            axes[1].set_title("b  Change from baseline: LS mean (\u25a0), observed (\u25cb)",
                              loc="left")  # fmt: skip
            handles, names = axes[0].get_legend_handles_labels()
            fig.legend(handles, names, loc="outside upper center", ncols=len(arms))
        save(fig, "figure1_trajectories", f"{protocol.primary_scale} by arm. Left: "
             "observed mean total score with 95% CI at every scheduled visit. Right: LS-mean "
             "change from baseline (squares, 95% CI) from the primary MMRM, with the observed "
             "mean change (open circles). Points are offset slightly to avoid overlap.")
    step()
    with not_analysed(skipped, "Individual trajectories (figure)"):
        fig = _individual_figure(adqs, trial.infusions, arms, labels)
        drugs = " or ".join(dict.fromkeys(d for arm in protocol.arms for d in arm.drugs))
        drugs = drugs or "study drug"
        save(fig, "figure2_individual", f"Individual {protocol.primary_scale} "
             "trajectories by arm (thin lines), observed mean (black)"
             + (f"; triangles mark {drugs} infusions" if has_infusions else "")
             + ". The day axis is stretched over the first two weeks (asinh scale).")
    step()
    if relapse is not None and len(relapse.table):
        with not_analysed(skipped, "Time to relapse (Kaplan-Meier figure)"):
            ax = fg.plot_kaplan_meier(relapse.table, order=arms, labels=labels,
                                      xlabel="Days since response (entry)",
                                      ylabel="Proportion free of relapse")  # fmt: skip
            save(ax, "figure3_relapse_km", f"Time to relapse "
                 f"({context.secondary['relapse'].name}) "
                 "among participants who responded, Kaplan-Meier estimates with 95% pointwise "
                 "bands (log-log; each arm's band its own hatch and dashed edges); ticks mark "
                 "censoring; numbers at risk below.")
    step()
    subgroups = forest_subgroups(trial, options, skipped)
    with not_analysed(skipped, "Subgroup forest plot"):
        if primary is None:
            raise KetexError("it shows the primary analysis, which was not analysed")
        effects = analysis.subgroup_effects(trial, subgroups)
        compared, reference = primary.contrast["arm"].iloc[0], plan.reference_arm
        ax = fg.plot_forest(effects, xlabel=f"Difference in {plan.scale} change at "
                            f"{plan.primary_visit} (95% CI)",
                            favours=(f"{compared} better", f"{reference} better"))  # fmt: skip
        save(ax, "figure4_subgroups", f"Difference {compared} - {reference} in LS-mean "
             f"change from baseline at {plan.primary_visit}, overall and within subgroups "
             "(one MMRM per subgroup variable with its interactions); squares scale with n. "
             "Subgroup results are exploratory.")
    step()
    with not_analysed(skipped, "Swimmer plot"):
        ax = fg.plot_swimmer(trial, labels=labels)
        marks = [m for m, shown in (("infusions", has_infusions),
                                    ("exercise sessions attended", has_exercise),
                                    ("first response", True), ("relapse", relapse is not None),
                                    ("discontinuation",
                                     bool((trial.events["event"] == "discontinuation").any())
                                     if len(trial.events) else False)) if shown]
        save(ax, "figure5_swimmer", "Each participant's course: line from "
             f"randomisation to the last record, {', '.join(marks[:-1])} and {marks[-1]}.")
    step()
    with not_analysed(skipped, "CONSORT flow"):
        ax = fg.plot_consort(trial, labels=labels)
        save(ax, "figure6_consort", "CONSORT flow from randomisation, computed from "
             "the data (screening is not part of the data set).")
    step()
    if has_exercise:
        with not_analysed(skipped, "Adherence heat map"):
            weekly = context.exercise_dose("week")
            ax = fg.plot_adherence_heatmap(weekly, order=arms, labels=labels)
            save(ax, "figure7_adherence", "Share of prescribed exercise sessions "
                 "attended, per participant (rows, grouped by arm, most adherent first) and "
                 "programme week; grey: nothing prescribed (after discontinuation).")
    step()
    with not_analysed(skipped, "Exercise dose vs outcome (figure)"):
        dose = analysis.dose_outcome_data(trial) if has_exercise else None
        if dose is not None and dose[["kkw", "CHG"]].dropna().shape[0] >= 3:
            at = protocol.analysis.primary.resolve(protocol)  # the plan's scale and visit
            ax = fg.plot_dose_response(dose, labels=labels,
                                       ylabel=f"{at.scale} change at {at.primary_visit}")
            save(ax, "figure8_dose_response", "Exercise dose achieved (KKW) against "
                 f"{at.scale} change from baseline at {at.primary_visit}, "
                 "with the least-squares line and its 95% confidence band (all participants; "
                 "observational, not randomised).")
    skipped.extend(safety_figures(trial, save, arms, labels))
    plt.close("all")  # the figures of parts left out
    step()
    html_path = out / "report.html"
    page = _page(trial, made, figure_items, primary, source, tuple(skipped), factorial,
                 estimand)
    for table in made.values():
        files.extend(table.save(table_dir, options.table_formats))
    out.mkdir(parents=True, exist_ok=True)
    html_path.write_text(page, encoding="utf-8")
    files.append(html_path)
    progress(total + 1, total, "done")
    return ReportResult(html_path, made, tuple(files), time.perf_counter() - started)


def _factorial_part(context: AnalysisContext, keep, save, skipped: list[Skipped]):
    """The factorial analysis of a trial whose arms declare two factors: its table and
    figures kept and saved; None (and a line in "Not analysed" when the arms declare
    factors) otherwise."""
    from ketex.report.factorial_section import factorial_reason

    reason = factorial_reason(context.trial)
    if reason is not None:
        if context.trial.protocol.factors:
            skipped.append(Skipped("Factorial analysis", reason))
        return None
    with not_analysed(skipped, "Factorial analysis"):
        factorial = context.factorial
        keep(dataclasses.replace(factorial.table, name="table_factorial"))
        save(factorial.interaction, "figure_factorial_interaction",
             factorial.captions["interaction"])
        save(factorial.forest, "figure_factorial_forest", factorial.captions["forest"])
        return factorial
    return None


def _estimands_part(context: AnalysisContext, estimands, primary, keep, save,
                    skipped: list[Skipped]):
    """The estimand analyses of ``[estimands]``: the ICE and sensitivity tables kept, the
    tipping-point figure saved; None (and a line in "Not analysed") without them."""
    from ketex.estimands.analyses import estimand_analyses
    from ketex.report.estimands_section import (
        estimand_spec_of,
        ice_table,
        sensitivity_table,
        tipping_caption,
    )
    from ketex.report.figures.tipping import plot_tipping_point

    part = "Estimands and sensitivity analyses"
    spec = estimand_spec_of(context.trial, estimands)
    if spec is None:
        skipped.append(Skipped(part, "no [estimands] table in study.toml"))
        return None
    with not_analysed(skipped, part):
        with context:
            analyses = estimand_analyses(context.trial, spec)
        outcome = f"{context.trial.protocol.primary_scale} change from baseline"
        if primary is not None and primary.plan.outcome != "CHG":
            outcome = f"{primary.plan.scale} score"
        keep(ice_table(analyses, context.trial, context.labels))
        keep(sensitivity_table(analyses, primary.contrast if primary is not None else None,
                               outcome=outcome))  # fmt: skip
        if analyses.tipping_grid is not None:
            ax = plot_tipping_point(analyses)
            save(ax, "figure_tipping_point", tipping_caption(analyses))
        return analyses
    return None


def _safety_tables(trial: Trial, keep: Callable[[ManuscriptTable], ManuscriptTable],
                   labels: dict[str, str]) -> list[Skipped]:
    """Make the safety tables the data allow; return what could not be analysed, and why."""
    skipped = []
    if len(trial.adverse_events):
        try:
            keep(tables.teae_overview_table(trial, group_labels=labels))
            keep(tables.adverse_event_table(trial, group_labels=labels))
        except ValueError as exc:  # adverse events but no treatment records
            skipped.append(Skipped("Adverse events", str(exc)))
    else:
        skipped.append(Skipped("Adverse events", "the data hold no adverse events table"))
    if len(trial.vitals):
        vitals = tables.infusion_vitals_table(trial, group_labels=labels)
        if vitals.data["n_measured"].sum():
            keep(vitals)
        else:
            skipped.append(Skipped("Vital signs after infusions",
                                   "no thresholded test (SBP, DBP) was measured after the "
                                   "start of an infusion"))
    else:
        skipped.append(Skipped("Vital signs", "the data hold no vital signs table"))
    skipped.extend(extra_safety_tables(trial, keep, labels))
    return skipped



def _result_tables(context: AnalysisContext, options: ReportOptions, keep, skipped, step):
    """The tables of results and safety, each part under :func:`not_analysed`.

    Returns the primary analysis and the time-to-relapse table (None: not analysed).
    """
    trial = context.trial
    arms, labels = list(context.arms), context.labels
    has_exercise = len(trial.exercise) > 0
    step()
    with not_analysed(skipped, "Baseline characteristics (table)"):
        keep(tables.table_one(trial, options=tables.TableOneOptions(
            pvalues=options.table_one_pvalues)))  # fmt: skip
    step()
    primary = None
    with not_analysed(skipped, "Primary analysis (MMRM)"):
        primary = context.primary
        fit, plan = primary.fit, primary.plan
        outcome = f"{plan.scale} {'change from baseline' if plan.outcome == 'CHG' else 'score'}"
        keep(tables.mmrm_table(fit, primary_visit=plan.primary_visit, group_labels=labels,
                               reference=plan.reference_arm,
                               outcome=outcome))  # fmt: skip
    step()
    with not_analysed(skipped, "Binary endpoints"):
        skipped.extend(Skipped("Endpoint", r) for r in tables.skipped_endpoints(trial))
        if tables.default_endpoints(trial):
            keep(tables.endpoint_table(trial, missing=options.endpoint_missing))
    step()
    relapse = None
    with not_analysed(skipped, "Time to relapse (table and Kaplan-Meier figure)"):
        relapse = context.relapse
        if relapse is None:
            skipped.append(Skipped("Time to relapse (table and Kaplan-Meier figure)",
                                   context.relapse_reason))
        else:
            keep(tables.survival_table(relapse.table, order=arms, group_labels=labels,
                                       title="Time to relapse "
                                       f"({context.secondary['relapse'].name})"))
    step()
    if has_exercise:
        with not_analysed(skipped, "Exercise adherence"):
            keep(tables.adherence_table(trial))
    else:
        skipped.append(Skipped("Exercise adherence and dose (table and figures)",
                               "the trial has no exercise sessions (no exercise table)"))
    from ketex.report.stream_section import stream_load_part  # device streams (#16)
    skipped.extend(stream_load_part(trial, keep, labels))
    step()
    with not_analysed(skipped, "Safety tables"):
        skipped.extend(_safety_tables(trial, keep, labels))
    return primary, relapse

def _factor_names(protocol, factorial) -> tuple[str, str]:
    """The protocol's names of the two factors (``drug``, ``exercise``)."""
    from ketex.derive.analysis import factor_columns

    names = factor_columns(protocol)
    return names[factorial.factor_a], names[factorial.factor_b]


def _factorial_methods(protocol, factorial) -> str:
    """The Methods sentence of the factorial analysis."""
    a, b = _factor_names(protocol, factorial)
    return (f"Factorial analysis: the primary MMRM with the arm replaced by the factors {a} "
            f"and {b} and their interaction, {factorial.formula} (the same visits, "
            f"covariance, estimation and df); reference levels {a} = "
            f"{factorial.reference_a} and {b} = {factorial.reference_b}. Main effects "
            "compare the levels of one factor averaged over the other with equal weights; "
            f"simple effects compare them within each level of the other; the interaction "
            f"is the difference of the simple effects, at {factorial.visit}; none is "
            "adjusted for multiplicity.")


def _factorial_summary(protocol, data: pd.DataFrame, factorial) -> str:
    """The key results line of the factorial analysis: main effects and interaction."""
    a, b = _factor_names(protocol, factorial)

    def effect(r) -> str:
        return (f"{r['estimate']:.1f} (95% CI {r['ci_low']:.1f} to {r['ci_high']:.1f}), "
                f"p = {format_p(r['p_value'])}")

    mains = data[data["part"] == "main effect"]
    named = {factorial.factor_a: a, factorial.factor_b: b}
    parts = [f"main effect of {named.get(r['factor'], r['factor'])} ({r['contrast']}) "
             f"{effect(r)}" for _, r in mains.iterrows()]
    inter = data[data["part"] == "interaction"]
    if len(inter):
        parts.append(f"interaction {a} x {b} {effect(inter.iloc[0])}")
    return f"Factorial analysis at {factorial.visit} (MMRM): " + "; ".join(parts) + "."


def _page(trial: Trial, made: dict[str, ManuscriptTable], figs: dict[str, FigureItem],
          primary_result, source: str | None, skipped: tuple[Skipped, ...] = (),
          factorial=None, estimand=None) -> str:
    from ketex import __version__
    from ketex.report.estimands_section import methods_sentence

    protocol = trial.protocol
    settings = protocol.endpoints
    from ketex.derive.analysis import arm_order

    arms = arm_order(protocol)
    labels = {a.code: a.label or a.code for a in protocol.arms}
    meta = [
        f"Study {protocol.study_id}: {protocol.title}" if protocol.title else
        f"Study {protocol.study_id}",
        f"Data: {source or 'in memory'}; {len(trial.participants)} participants in "
        f"{len(arms)} arms ({', '.join(f'{c}: {labels[c]}' for c in arms)}).",
        f"Written {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by ketex {__version__}.",
    ]
    plan = primary_result.plan if primary_result is not None else None
    fit = primary_result.fit if primary_result is not None else None
    summary = []
    diff = pd.DataFrame()
    if plan is not None and "table2_mmrm" in made:
        mmrm = made["table2_mmrm"].data
        primary = mmrm[(mmrm["visit"] == plan.primary_visit)]
        diff = primary[primary["kind"] == "difference"]
    if len(diff):
        d = diff.iloc[0]
        ls = primary[primary["kind"] == "lsmean"].set_index("arm")["estimate"]
        summary.append(
            f"Primary endpoint, {plan.scale} "
            f"{'change from baseline' if plan.outcome == 'CHG' else 'score'} at "
            f"{plan.primary_visit} (MMRM): "
            + ", ".join(f"{a} {ls[a]:.1f}" for a in arms if a in ls.index)
            + f"; difference {d['arm']} {d['estimate']:.1f} (95% CI {d['ci_low']:.1f} to "
            f"{d['ci_high']:.1f}), p = {format_p(d['p_value'])}."
        )
    if factorial is not None and "table_factorial" in made:
        summary.append(_factorial_summary(protocol, made["table_factorial"].data, factorial))
    ends = made["table3_endpoints"].data if "table3_endpoints" in made else pd.DataFrame(
        columns=["kind"])
    for _, r in ends[ends["kind"] == "risk difference"].iterrows():
        summary.append(f"{r['endpoint']}: risk difference {r['group']} "
                       f"{100 * r['estimate']:.1f} percentage points (95% CI "
                       f"{100 * r['ci_low']:.1f} to {100 * r['ci_high']:.1f}).")
    if "table4_survival" in made:
        s = made["table4_survival"].data
        hr = s[(s["kind"] == "hazard ratio") & s["estimate"].notna()]
        if len(hr):
            h = hr.iloc[0]
            summary.append(f"Time to relapse: hazard ratio {h['group']} {h['estimate']:.2f} "
                           f"(95% CI {h['ci_low']:.2f} to {h['ci_high']:.2f}), "
                           f"p = {format_p(h['p_value'])}.")
    if "safety1_teae_overview" in made:
        o = made["safety1_teae_overview"].data
        o = o[o["category"] == "Any TEAE"]
        summary.append("Participants with a treatment-emergent adverse event: " + ", ".join(
            f"{r['arm']} {r['n_participants']}/{r['N']} ({r['percent']:.1f}%)"
            for _, r in o.iterrows()) + ".")
    endpoint_names = " ".join(made["table3_endpoints"].data["endpoint"].astype(str)) \
        if "table3_endpoints" in made else ""
    secondary = {e.key: e for e in secondary_endpoints(protocol)}
    named = [secondary[key].in_words if key in secondary and shown else "" for key, shown in (
        ("remission", "Remission" in endpoint_names), ("relapse", "table4_survival" in made),
        ("sustained", "Sustained" in endpoint_names))]
    methods = (
        f"Pre-specified in study.toml: primary scale {protocol.primary_scale}; baseline visit "
        f"{settings.baseline_visit}; primary visit "
        f"{plan.primary_visit if plan is not None else settings.primary_visit}; response = "
        f"reduction of at least {100 * settings.response_reduction:g}% from baseline"
        + "".join(f"; {n}" for n in named if n) + ".",
        f"Primary analysis ({protocol.analysis.source} [analysis.primary]): mixed model "
        f"for repeated measures of the {plan.scale} "
        f"{'change from baseline' if plan.outcome == 'CHG' else 'score'}, {plan.formula}, "
        f"{plan_in_words(plan, fit.covariance)}, visits {', '.join(plan.visits)}; "
        f"contrasts are arm - {plan.reference_arm} at {plan.primary_visit}. "
        f"Converged: {fit.converged}." if plan is not None else
        f"Primary analysis ({protocol.analysis.source} [analysis.primary]): not analysed; "
        "the reason is in the Not analysed section.",
        *((_factorial_methods(protocol, factorial),) if factorial is not None else ()),
        *((methods_sentence(estimand),) if estimand is not None else ()),
        "Missing data: the MMRM uses every observed visit (valid under missing at random); "
        "binary endpoints are analysed as observed cases unless stated otherwise.",
    )

    labels_of = layout.numbers([*made, *figs])
    for name, label in labels_of.items():  # numbered in order of first citation
        if name in made:
            made[name] = dataclasses.replace(made[name],
                                             title=layout.renumbered(made[name].title, label))
    sections = [ReportSection("Methods", methods, anchor="methods")]
    for part in layout.PARTS:
        tables_in = [n for n in part.tables if n in made]
        figures_in = [n for n in part.figures if n in figs]
        if tables_in or figures_in:
            sections.append(ReportSection(
                part.title, (layout.citation([*tables_in, *figures_in], labels_of),),
                tuple(made[n].to_html() for n in tables_in),
                tuple(dataclasses.replace(figs[n], caption=f"{labels_of[n]}. {figs[n].caption}")
                      for n in figures_in), anchor=part.anchor))
    if skipped:
        sections.append(ReportSection("Not analysed", tuple(str(s) for s in skipped),
                                      anchor="not-analysed"))
    figure_files = "; ".join(f"{labels_of[n]}: {n}" for n in labels_of if n in figs)
    sections.append(ReportSection("Files", (
        "Every table is in tables/ (CSV of the printed table and of its numbers, Markdown, "
        "LaTeX, HTML, Word); every figure in figures/ (PDF and SVG with embedded fonts, "
        f"600-dpi PNG), named {figure_files}.",), anchor="files"))
    title = f"{protocol.study_id}: pre-specified analysis"
    return render_html(title, meta, sections, summary)
