"""The estimands part of a trial's report: intercurrent events and sensitivity analyses.

When ``study.toml`` has an ``[estimands]`` table (:func:`ketex.read_estimand_spec`),
``ketex report`` runs :func:`ketex.estimand_analyses` and shows the intercurrent events
by arm, type and strategy (:func:`ice_table`), the primary MAR MMRM beside each
reference-based analysis at the primary visit (:func:`sensitivity_table`) and the
tipping-point figure.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ketex.report._table import ManuscriptTable, format_p

__all__ = ["ICE_TABLE_COLUMNS", "SENSITIVITY_TABLE_COLUMNS", "estimand_spec_of", "ice_table",
           "methods_sentence", "sensitivity_table", "tipping_caption"]

#: Columns of ``ice_table(...).data``.
ICE_TABLE_COLUMNS = ("arm", "ice_type", "strategy", "n", "N")
#: Columns of ``sensitivity_table(...).data``.
SENSITIVITY_TABLE_COLUMNS = ("analysis", "strategy", "visit", "contrast", "estimate", "se",
                             "df", "ci_low", "ci_high", "p_value")
#: The ``analysis`` of the primary MMRM's row in :func:`sensitivity_table`.
MMRM = "primary MMRM"

_METHODS = {
    "condmean_jackknife": "conditional mean imputation, jackknife SE",
    "condmean_bootstrap": "conditional mean imputation, bootstrap SE",
    "approx_bayes": "approximate Bayesian multiple imputation, Rubin's rules",
    "bootstrap_mi": "bootstrapped maximum-likelihood multiple imputation",
}


def estimand_spec_of(trial, estimands):
    """The estimand settings to report, or None when there are none.

    ``estimands`` is an :class:`ketex.EstimandSpec`, a study folder or ``study.toml``
    (its ``[estimands]`` table; None when it has none) or None.
    """
    if estimands is None or not isinstance(estimands, (str, Path)):
        return estimands
    from ketex.estimands.spec import read_estimand_spec

    return read_estimand_spec(estimands, protocol=trial.protocol)


def ice_table(analyses, trial, labels: dict[str, str] | None = None) -> ManuscriptTable:
    """Intercurrent events by arm, type and strategy (the primary analysis's ICE table).

    ``data``: :data:`ICE_TABLE_COLUMNS`, one row per arm, ICE type and strategy with
    ``n`` participants of the arm's ``N`` randomised; an arm without ICEs has one row
    with ``n = 0``.
    """
    labels = labels or {}
    arms = [analyses.control, *(a for a in trial.protocol.arm_codes if a != analyses.control)]
    sizes = trial.participants.groupby(trial.participants["arm"].astype(str)).size()
    counts = (analyses.ice.assign(arm=analyses.ice["arm"].astype(str))
              .groupby(["arm", "ice_type", "strategy"], observed=True).size())  # fmt: skip
    rows = []
    for arm in arms:
        N = int(sizes.get(arm, 0))
        found = counts[counts.index.get_level_values("arm") == arm] if len(counts) else counts
        if not len(found):
            rows.append({"arm": arm, "ice_type": "", "strategy": "", "n": 0, "N": N})
        for (_, ice_type, strategy), n in found.items():
            rows.append({"arm": arm, "ice_type": str(ice_type), "strategy": str(strategy),
                         "n": int(n), "N": N})  # fmt: skip
    data = pd.DataFrame(rows, columns=list(ICE_TABLE_COLUMNS))
    display = pd.DataFrame({
        "Arm": [labels.get(a, a) for a in data["arm"]],
        "Intercurrent event": [t or "none" for t in data["ice_type"]],
        "Strategy": data["strategy"].tolist(),
        "n/N (%)": [f"{n}/{N} ({100 * n / N:.1f}%)" if N else f"{n}/{N}"
                    for n, N in zip(data["n"], data["N"], strict=True)],
    })  # fmt: skip
    notes = (
        "Participants with an intercurrent event of each type, by arm, and the strategy "
        "the estimand ([estimands] strategies of study.toml) handles it with; visits "
        f"{', '.join(analyses.visits)}.",
        "MAR: the outcomes after the event are imputed under missing at random; JR, CR, "
        "CIR, LMCF: reference-based imputation (jump to reference, copy reference, copy "
        "increments in reference, last mean carried forward).",
    )
    return ManuscriptTable(data, display, "Intercurrent events by arm, type and strategy",
                           notes, "table_estimand_ice")


def sensitivity_table(analyses, primary_contrast: pd.DataFrame | None = None,
                      outcome: str = "Change from baseline") -> ManuscriptTable:
    """The primary MAR MMRM beside each estimand analysis at the primary visit.

    Parameters
    ----------
    analyses : ketex.EstimandAnalyses
    primary_contrast : pandas.DataFrame, optional
        The primary analysis's contrasts (:attr:`ketex.PrimaryResult.contrast`); its rows
        at ``analyses.primary_visit`` come first (``analysis = "primary MMRM"``,
        ``strategy = "MAR"``).
    outcome : str

    Returns
    -------
    ManuscriptTable
        ``data``: :data:`SENSITIVITY_TABLE_COLUMNS`; the other rows are those of
        ``analyses.table`` at the primary visit.
    """
    visit = analyses.primary_visit
    parts = []
    if primary_contrast is not None:
        mmrm = primary_contrast[primary_contrast["visit"] == visit]
        parts.append(mmrm.assign(analysis=MMRM, strategy="MAR")[list(SENSITIVITY_TABLE_COLUMNS)])
    table = analyses.table
    parts.append(table[table["visit"] == visit][list(SENSITIVITY_TABLE_COLUMNS)])
    data = pd.concat(parts, ignore_index=True)
    method = _METHODS.get(analyses.spec.method, analyses.spec.method)

    def name(analysis: str) -> str:
        if analysis == MMRM:
            return "Primary analysis: MMRM (MAR)"
        if analysis == "primary":
            return "Estimand analysis (the [estimands] strategies)"
        return f"Sensitivity: non-MAR strategies replaced by {analysis.split(': ', 1)[1]}"

    display = pd.DataFrame({
        "Analysis": [name(a) for a in data["analysis"]],
        "Strategies": data["strategy"].astype(str).tolist(),
        "Contrast": data["contrast"].astype(str).tolist(),
        "Difference (95% CI)": [f"{e:.1f} ({lo:.1f} to {hi:.1f})" for e, lo, hi in
                                zip(data["estimate"], data["ci_low"], data["ci_high"],
                                    strict=True)],
        "p": [format_p(p) for p in data["p_value"]],
    })  # fmt: skip
    notes = (
        f"{outcome} at {visit}, difference arm - {analyses.control}. The primary MMRM uses "
        "every observed visit (valid under missing at random); the estimand analyses "
        f"impute by {method} (imputation model {analyses.spec.formula}, unstructured "
        "covariance, REML; per-visit ANCOVA on "
        f"{', '.join(analyses.spec.analysis_covariates) or 'no covariates'}).",
        "References: " + ", ".join(f"{a} -> {r}" for a, r in analyses.spec.references.items())
        + ". Not adjusted for multiplicity.",
    )
    return ManuscriptTable(data, display, f"{outcome} at {visit}: primary analysis and "
                           "sensitivity analyses under other missing-data assumptions",
                           notes, "table_estimand_sensitivity")


def methods_sentence(analyses) -> str:
    """The report's Methods sentence of the estimand analyses."""
    spec = analyses.spec
    strategies = "; ".join(f"{reason}: {s}" for reason, s in spec.strategies.items())
    return (f"Estimands (study.toml [estimands]): intercurrent events handled as {strategies}; "
            f"references {', '.join(f'{a} -> {r}' for a, r in spec.references.items())}; "
            f"{_METHODS.get(spec.method, spec.method)}, imputation model {spec.formula}, "
            f"visits {', '.join(analyses.visits)}"
            + (f"; sensitivity analyses with every non-MAR strategy replaced by "
               f"{', '.join(spec.sensitivity)}" if spec.sensitivity else "")
            + (f"; tipping point over deltas added to arm {spec.tipping_arm}"
               if analyses.tipping_grid is not None else "") + ".")


def tipping_caption(analyses) -> str:
    """The caption of the report's tipping-point figure."""
    spec = analyses.spec
    point = ("the conclusion does not change on the grid" if analyses.tipping_point is None
             else f"the conclusion changes at delta = {analyses.tipping_point:.2f}")
    return (f"Tipping-point analysis at {analyses.primary_visit}: the difference "
            f"{analyses.tipping_contrast} (95% CI) of the estimand analysis when delta is "
            f"added to every imputed value of arm {spec.tipping_arm} (deltas "
            f"{', '.join(f'{d:g}' for d in spec.tipping_deltas)}); filled markers: "
            f"significant at alpha = {spec.alpha:g}; {point}.")
