"""The long data and the intercurrent-event table as complete participant x visit arrays.

Rows for missing visits may be absent or present with a missing outcome; absent rows get
the participant's covariate values when those are constant within the participant.
Every problem is collected and reported together, naming the table, row, column and value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.models._design import formula_variables

__all__ = ["LongData", "apply_ice", "prepare"]


@dataclass(frozen=True)
class LongData:
    """Participants x visits; row ``i * T + t`` of ``grid`` is participant i, visit t."""

    grid: pd.DataFrame  # complete, sorted by participant then visit; categoricals fixed
    subject: str
    visit: str
    group: str
    outcome: str
    subjects: pd.Index
    visits: tuple
    arms: tuple
    y: np.ndarray  # (n, T), NaN where missing or imputed anyway (keep_post_ice_data=False)
    y_observed: np.ndarray  # (n, T), the data's outcomes
    arm_codes: np.ndarray  # (n,)
    reference_codes: np.ndarray  # (n,) code of each participant's reference arm
    strategy: np.ndarray  # (n,) object: strategy name, "MAR" without an ICE
    ice_index: np.ndarray  # (n,) first affected visit index, T without an ICE
    is_mar: np.ndarray  # (n, T) bool: the value counts as MAR (fit and conditioning)
    is_post_ice: np.ndarray  # (n, T) bool

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)

    @property
    def n_visits(self) -> int:
        return len(self.visits)

    @property
    def is_missing(self) -> np.ndarray:
        return np.isnan(self.y)


def _levels(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in present]
    return sorted(values.dropna().unique().tolist())


def prepare(
    data: pd.DataFrame,
    formula: str,
    *,
    subject: str,
    visit: str,
    group: str,
    ice: pd.DataFrame | None,
    references: Mapping,
    strategies: Collection[str],
    analysis_covariates: Sequence[str],
    keep_post_ice_data: bool,
) -> LongData:
    """Check the inputs and build :class:`LongData` (raises DataValidationError)."""
    outcome, covariates = _check_columns(data, formula, subject, visit, group, analysis_covariates)
    visits = _levels(data[visit])
    arms = _levels(data[group])
    subjects = pd.Index(pd.unique(data[subject]))
    key = pd.MultiIndex.from_arrays([data[subject], data[visit]])
    if key.duplicated().any():
        dup = data.index[key.duplicated(keep=False)][:6].tolist()
        raise DataValidationError(
            f"Each participant may have one row per visit; rows {dup} repeat a ({subject!r}, "
            f"{visit!r}) pair. Aggregate or remove the duplicates."
        )
    per_subject_arm = data.groupby(subject, sort=False)[group].nunique()
    if (per_subject_arm > 1).any():
        who = per_subject_arm.index[per_subject_arm > 1][:5].tolist()
        raise DataValidationError(f"group {group!r} changes within participants {who}.")

    grid = _complete_grid(data, subject, visit, group, outcome, covariates, subjects, visits)
    n, t = len(subjects), len(visits)
    y = grid[outcome].to_numpy(dtype=float).reshape(n, t)
    arm_of = grid[group].to_numpy()[::t]
    arm_codes = np.array([arms.index(a) for a in arm_of])
    reference_codes = _reference_codes(references, arms, arm_codes)
    grid = grid.assign(**{group: pd.Categorical(grid[group], categories=arms)})
    base = LongData(
        grid=grid,
        subject=subject,
        visit=visit,
        group=group,
        outcome=outcome,
        subjects=subjects,
        visits=tuple(visits),
        arms=tuple(arms),
        y=y,
        y_observed=y,
        arm_codes=arm_codes,
        reference_codes=reference_codes,
        strategy=np.full(n, "MAR", dtype=object),
        ice_index=np.full(n, t, dtype=np.int64),
        is_mar=np.ones((n, t), dtype=bool),
        is_post_ice=np.zeros((n, t), dtype=bool),
    )
    return apply_ice(base, ice, strategies, keep_post_ice_data)


def _check_columns(
    data: pd.DataFrame, formula: str, subject: str, visit: str, group: str,
    analysis_covariates: Sequence[str],
) -> tuple[str, list[str]]:
    """The outcome and covariate names, once every column role is checked."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(f"formula must be a string 'outcome ~ terms', got {formula!r}.")
    outcome = formula.split("~", 1)[0].strip()
    rhs = formula.split("~", 1)[1]
    problems: list[str] = []
    for role, column in (("subject", subject), ("visit", visit), ("group", group)):
        if column not in data.columns:
            problems.append(f"{role} column {column!r} is not in the data")
    if outcome not in data.columns:
        problems.append(f"outcome {outcome!r} (left side of the formula) is not in the data")
    covariates = [c for c in formula_variables(rhs, list(data.columns)) if c not in (subject,)]
    for term in analysis_covariates:
        names = formula_variables(term, list(data.columns))
        if not names:
            problems.append(f"analysis covariate {term!r} names no column of the data")
        covariates += [n for n in names if n not in covariates]
    if group in data.columns and group not in formula_variables(rhs, list(data.columns)):
        problems.append(f"the imputation formula {formula!r} must contain the group {group!r}")
    if problems:
        raise DataValidationError(
            "Cannot run reference-based imputation: "
            + "; ".join(problems)
            + f". Columns are: {list(data.columns)}."
        )
    _check_values(data, outcome, covariates, subject, visit, group)
    return outcome, covariates


def _check_values(data, outcome, covariates, subject, visit, group) -> None:
    problems = []
    for role, column in (("subject", subject), ("visit", visit), ("group", group)):
        if data[column].isna().any():
            rows = data.index[data[column].isna()][:5].tolist()
            problems.append(f"{role} column {column!r} is missing in rows {rows}")
    if not pd.api.types.is_numeric_dtype(data[outcome]):
        problems.append(f"outcome {outcome!r} must be numeric, got dtype {data[outcome].dtype}")
    for column in covariates:
        if column in (visit, group):
            continue
        missing = data[column].isna()
        if missing.any():
            rows = data.index[missing][:5].tolist()
            problems.append(
                f"covariate {column!r} is missing in {int(missing.sum())} rows (first: {rows}); "
                "covariates may not be missing (impute or drop them first)"
            )
    if problems:
        raise DataValidationError(
            "Cannot run reference-based imputation: " + "; ".join(problems) + "."
        )


def apply_ice(
    long: LongData, ice: pd.DataFrame | None, strategies, keep_post_ice_data: bool
) -> LongData:
    """``long`` with the strategies and first affected visits of an ICE table."""
    t = long.n_visits
    strategy, ice_index = _ice_arrays(
        ice, long.subject, long.visit, long.subjects, long.visits, strategies
    )
    is_post_ice = np.arange(t)[None, :] >= ice_index[:, None]
    non_mar = (strategy != "MAR")[:, None] & is_post_ice
    y = long.y_observed if keep_post_ice_data else np.where(non_mar, np.nan, long.y_observed)
    lmcf_first = (strategy == "LMCF") & (ice_index == 0)
    if lmcf_first.any():
        raise DataValidationError(
            f"LMCF needs a visit before the intercurrent event; participants "
            f"{long.subjects[lmcf_first][:5].tolist()} have their ICE at the first visit "
            f"{long.visits[0]!r}. Choose another strategy for them."
        )
    is_mar = ~non_mar
    available = (is_mar & ~np.isnan(y)).sum(axis=0)
    if (available == 0).any():
        empty = [long.visits[j] for j in np.flatnonzero(available == 0)]
        raise DataValidationError(
            f"Visits {empty} have no outcome usable by the imputation model (all missing or "
            "after a non-MAR intercurrent event)."
        )
    return replace(
        long,
        y=y,
        strategy=strategy,
        ice_index=ice_index,
        is_mar=is_mar,
        is_post_ice=is_post_ice,
    )


def _complete_grid(data, subject, visit, group, outcome, covariates, subjects, visits):
    """One row per participant and visit; absent rows filled from the participant."""
    full = pd.MultiIndex.from_product([subjects, visits], names=[subject, visit])
    indexed = data.set_index([subject, visit])
    columns = [c for c in dict.fromkeys([group, outcome, *covariates]) if c not in (subject, visit)]
    grid = indexed[columns].reindex(full)
    absent = ~full.isin(indexed.index)
    if absent.any():
        fill = [c for c in columns if c != outcome]
        constant = data.groupby(subject, sort=False)[fill].nunique(dropna=False).le(1).all()
        varying = [c for c in fill if not constant[c]]
        if varying:
            cells = full[absent][:5].tolist()
            raise DataValidationError(
                f"The data have no row for {int(absent.sum())} participant-visit pairs (e.g. "
                f"{cells}) and the covariates {varying} vary within participants, so they "
                "cannot be filled in; add those rows with their covariates and a missing "
                "outcome."
            )
        first = data.groupby(subject, sort=False)[fill].first()
        who = full[absent].get_level_values(0)
        grid.loc[absent, fill] = first.loc[who].to_numpy()
        for c in fill:  # restore dtypes lost by the assignment into missing rows
            if not isinstance(data[c].dtype, pd.CategoricalDtype):
                grid[c] = grid[c].astype(data[c].dtype)
    grid = grid.reset_index()
    if isinstance(data[visit].dtype, pd.CategoricalDtype):
        grid[visit] = pd.Categorical(grid[visit], categories=visits)
    return grid


def _reference_codes(references, arms, arm_codes) -> np.ndarray:
    if not isinstance(references, Mapping):
        raise TypeError(
            "references must map each arm to its reference arm, e.g. "
            "{'DRUG': 'PLACEBO', 'PLACEBO': 'PLACEBO'}."
        )
    missing = [a for a in arms if a not in references]
    unknown = [f"{k!r}: {v!r}" for k, v in references.items() if k not in arms or v not in arms]
    if missing or unknown:
        raise DataValidationError(
            "references must name a reference arm for every arm of the data "
            f"{list(arms)}; "
            + (f"missing for {missing}" if missing else "")
            + ("; " if missing and unknown else "")
            + (f"unknown arms in {unknown}" if unknown else "")
            + "."
        )
    lookup = np.array([arms.index(references[a]) for a in arms])
    return lookup[arm_codes]


def _ice_arrays(ice, subject, visit, subjects, visits, strategies):
    n, t = len(subjects), len(visits)
    strategy = np.full(n, "MAR", dtype=object)
    ice_index = np.full(n, t, dtype=np.int64)
    if ice is None or len(ice) == 0:
        return strategy, ice_index
    if not isinstance(ice, pd.DataFrame):
        raise TypeError(
            f"ice must be a DataFrame ({subject}, {visit}, strategy), got {type(ice).__name__}."
        )
    needed = [subject, visit, "strategy"]
    absent = [c for c in needed if c not in ice.columns]
    if absent:
        raise DataValidationError(
            f"The ICE table needs columns {needed}; {absent} are missing (columns are "
            f"{list(ice.columns)})."
        )
    problems = []
    position = pd.Series(np.arange(n), index=subjects)
    visit_position = {v: j for j, v in enumerate(visits)}
    duplicated = ice[subject].duplicated(keep=False)
    if duplicated.any():
        problems.append(
            f"rows {ice.index[duplicated][:5].tolist()} repeat a participant (one ICE with a "
            "strategy per participant)"
        )
    for row, (who, when, what) in zip(ice.index, ice[needed].itertuples(index=False), strict=True):
        if who not in position.index:
            problems.append(f"row {row}: {subject}={who!r} is not in the data")
        if when not in visit_position:
            problems.append(
                f"row {row}: {visit}={when!r} is not a visit of the data {list(visits)}"
            )
        if what not in strategies:
            problems.append(f"row {row}: strategy={what!r} is not one of {sorted(strategies)}")
    if problems:
        raise DataValidationError("Invalid ICE table: " + "; ".join(problems[:10]) + ".")
    rows = position.loc[ice[subject]].to_numpy()
    strategy[rows] = ice["strategy"].to_numpy(dtype=object)
    ice_index[rows] = [visit_position[v] for v in ice[visit]]
    return strategy, ice_index
