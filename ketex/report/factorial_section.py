"""The factorial part of a trial's report: one call that fits, tabulates and draws.

For a protocol whose arms declare two factors (``[arms.factors]``, e.g. drug x exercise),
:func:`factorial_outputs` fits the pre-specified MMRM with the arm replaced by the two
factors and their interaction (``CHG ~ BASE + ARM * AVISIT`` becomes ``CHG ~ BASE +
(DRUG * EXERCISE) * AVISIT``, the same model of the cell means, with the same visits,
covariance, method and df), and returns the CONSORT-factorial table at the primary
visit, the interaction plot and the factorial forest with their captions.
:func:`factorial_reason` says why a trial has no factorial part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ketex.errors import DataValidationError
from ketex.report._table import ManuscriptTable

__all__ = ["CONTROL_MODALITIES", "FactorialOutputs", "factorial_outputs", "factorial_reason",
           "reference_levels"]

#: Exercise modalities that are attention controls rather than exercise (for the default
#: reference level of a factor).
CONTROL_MODALITIES = ("stretching", "relaxation")


@dataclass(frozen=True)
class FactorialOutputs:
    """The factorial part of a report.

    Attributes
    ----------
    fit : ketex.MMRMResult
        The MMRM with the two factors (``formula`` below).
    formula : str
    factor_a, factor_b : str
        The analysis dataset's factor columns (``DRUG``, ``EXERCISE``).
    reference_a, reference_b : str
        Their control levels.
    visit : str
        The primary visit.
    contrasts : pandas.DataFrame
        :func:`ketex.factorial_contrasts` at every visit.
    table : ManuscriptTable
        :func:`ketex.consort_factorial_table` at the primary visit.
    interaction : matplotlib.figure.Figure
    forest : matplotlib.figure.Figure
    captions : dict
        ``{"interaction": ..., "forest": ...}``.
    """

    fit: object
    formula: str
    factor_a: str
    factor_b: str
    reference_a: str
    reference_b: str
    visit: str
    contrasts: pd.DataFrame
    table: ManuscriptTable
    interaction: object
    forest: object
    captions: dict


def factorial_reason(trial) -> str | None:
    """Why the trial has no factorial analysis, or None when it has one.

    Examples
    --------
    >>> import ketex
    >>> factorial_reason(ketex.load_trial(ketex.sample_study_path()))
    'the arms declare no factors ([arms.factors]): not a factorial trial'
    >>> factorial_reason(ketex.load_trial(ketex.sample_study_path(study="factorial"))) is None
    True
    """
    factors = trial.protocol.factors
    if not factors:
        return "the arms declare no factors ([arms.factors]): not a factorial trial"
    if len(factors) != 2:
        return (f"the arms declare {len(factors)} factor(s) ({', '.join(factors)}); the "
                "factorial table and figures are for two")
    single = [name for name, levels in factors.items() if len(levels) < 2]
    if single:
        return f"factor(s) {', '.join(single)} have a single level"
    return None


def reference_levels(protocol) -> dict[str, str]:
    """The control level of each factor: the level whose arms do least.

    An arm's activity is its number of ``active`` treatments plus one when it prescribes
    exercise other than a control modality (:data:`CONTROL_MODALITIES`); a factor's
    control level is the one whose arms have the lowest mean activity, the first level
    when that is a tie. The primary analysis's ``reference_arm``, when the protocol sets
    it, gives the levels of its cell instead.

    Examples
    --------
    >>> import ketex
    >>> protocol = ketex.load_trial(ketex.sample_study_path(study="factorial")).protocol
    >>> reference_levels(protocol)
    {'drug': 'midazolam', 'exercise': 'stretching'}
    """
    factors = protocol.factors
    arm = protocol.analysis.primary.reference_arm
    if arm is not None:
        cell = dict(next(a for a in protocol.arms if a.code == arm).factors)
        if set(cell) == set(factors):
            return {name: cell[name] for name in factors}

    def activity(a) -> int:
        active = sum(t.role == "active" for t in a.treatments)
        exercise = protocol.exercise_for(a.code)
        return active + int(exercise is not None
                            and exercise.modality not in CONTROL_MODALITIES)

    out = {}
    for name, levels in factors.items():
        means = {}
        for level in levels:
            scores = [activity(a) for a in protocol.arms if dict(a.factors).get(name) == level]
            means[level] = sum(scores) / len(scores)
        lowest = min(means.values())
        least = [level for level in levels if means[level] == lowest]
        out[name] = least[0] if len(least) == 1 else levels[0]
    return out


def factorial_outputs(trial, *, reference_a: str | None = None,
                      reference_b: str | None = None, control=None) -> FactorialOutputs:
    """Fit the factorial MMRM of the pre-specified plan and make its table and figures.

    Parameters
    ----------
    trial : Trial
        A trial whose arms declare two factors.
    reference_a, reference_b : str, optional
        Control levels of the first and second factor (default: :func:`reference_levels`).
    control : ketex.MMRMControl, optional

    Returns
    -------
    FactorialOutputs

    Raises
    ------
    ketex.errors.DataValidationError
        When the trial is not a two-factor factorial (:func:`factorial_reason`), or the
        plan's formula has no plain ``ARM`` term to replace (``C(ARM, ...)``).

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    >>> out = factorial_outputs(trial)  # doctest: +SKIP
    >>> out.formula, out.visit  # doctest: +SKIP
    ('CHG ~ BASE + (DRUG * EXERCISE) * AVISIT', 'WEEK12')
    """
    from ketex.derive.analysis import factor_columns
    from ketex.factorial_mmrm import factorial_contrasts
    from ketex.models import mmrm
    from ketex.primary import primary_dataset
    from ketex.report.factorial_table import consort_factorial_table
    from ketex.report.figures.factorial import plot_factorial_forest, plot_interaction

    reason = factorial_reason(trial)
    if reason is not None:
        raise DataValidationError(f"factorial_outputs: {reason}")
    protocol = trial.protocol
    plan = protocol.analysis.primary.resolve(protocol)
    columns = {factor: column for column, factor in factor_columns(protocol).items()}
    (name_a, levels_a), (name_b, levels_b) = protocol.factors.items()
    column_a, column_b = columns[name_a], columns[name_b]
    defaults = reference_levels(protocol)
    ref_a = reference_a if reference_a is not None else defaults[name_a]
    ref_b = reference_b if reference_b is not None else defaults[name_b]
    bare_arm = r"(?<![\w(.])ARM(?![\w(]|\s*,)"  # ARM as a term, not inside C(ARM, ...)
    if not re.search(bare_arm, plan.formula):
        raise DataValidationError(
            f"study.toml: analysis.primary.formula {plan.formula!r} has no plain ARM term for "
            f"the factorial model to replace with ({column_a} * {column_b}); write ARM "
            "without C(...) or fit the factorial model with ketex.mmrm"
        )
    formula = re.sub(bare_arm, f"({column_a} * {column_b})", plan.formula)
    data = primary_dataset(trial, plan)
    data = data.assign(USUBJID=data["USUBJID"].to_numpy(dtype=object))
    covariance = plan.covariance[0] if len(plan.covariance) == 1 else plan.covariance
    fit = mmrm(data, formula, subject="USUBJID", visit="AVISIT", covariance=covariance,
               method=plan.method, df=plan.df, control=control)  # fmt: skip
    visit = plan.primary_visit
    contrasts = factorial_contrasts(fit, column_a, column_b, reference_a=ref_a,
                                    reference_b=ref_b)  # fmt: skip
    outcome = f"{plan.scale} {'change from baseline' if plan.outcome == 'CHG' else 'score'}"
    table = consort_factorial_table(fit, column_a, column_b, visit=visit, reference_a=ref_a,
                                    reference_b=ref_b, outcome=outcome)  # fmt: skip
    order_a = [ref_a, *(v for v in levels_a if v != ref_a)]
    order_b = [ref_b, *(v for v in levels_b if v != ref_b)]
    ylabel = (f"{plan.scale} change from baseline, LS mean (95% CI)" if plan.outcome == "CHG"
              else f"{plan.scale} total score, LS mean (95% CI)")
    interaction = plot_interaction(fit, column_a, column_b, order_a=order_a, order_b=order_b,
                                   highlight=visit, ylabel=ylabel)  # fmt: skip
    forest = plot_factorial_forest(contrasts, visit=visit).figure
    captions = {
        "interaction": (
            f"{protocol.primary_scale} {outcome.split(' ', 1)[1]} by {name_a} and {name_b}: "
            f"LS means (95% CI) of the four cells from the MMRM {formula}, one panel per "
            f"{name_a}, one line per {name_b}; {visit} (the primary visit) shaded. Parallel "
            "lines mean the two effects add."
        ),
        "forest": (
            f"Factorial effects at {visit}: main effects (each factor's levels compared, "
            f"the other averaged with equal weights), simple effects (at each level of the "
            f"other factor) and the interaction (the difference of the simple effects), "
            "with 95% CI; not adjusted for multiplicity."
        ),
    }
    return FactorialOutputs(fit, formula, column_a, column_b, ref_a, ref_b, visit, contrasts,
                            table, interaction, forest, captions)
