"""Reference grids: least-squares means, their contrasts, and Type III hypotheses.

Semantics follow SAS ``LSMEANS`` and R's emmeans: the grid crosses every level of
every factor in the model; numeric covariates sit at their mean over the analysed
observations; an LS-mean averages the grid's predictions over the factors it does not
name, with equal weights (SAS's default) or with weights proportional to how often
each combination of those factors occurs in the data (SAS ``OM``, emmeans
``weights = "proportional"``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy

from ketex.errors import DataValidationError
from ketex.models._design import ModelFrame, formula_variables

__all__ = ["CONTRAST_METHODS", "Contrasts", "ReferenceGrid", "as_list"]

#: how :meth:`ReferenceGrid.contrasts` pairs the levels of the specs
CONTRAST_METHODS = ("revpairwise", "pairwise", "trt_vs_ctrl")


def as_list(value) -> list[str]:
    """None -> [], a name -> [name], a sequence -> list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class Contrasts:
    """Pairwise differences of LS-mean rows, labelled: the one contrast builder.

    Attributes
    ----------
    cells : pandas.DataFrame
        The LS-mean cells (``by...`` then ``specs...``), one per row of ``means``.
    means : numpy.ndarray
        Their linear functions of the fixed effects.
    first, second : numpy.ndarray
        Row ``i`` of the contrast is cell ``first[i]`` minus cell ``second[i]``.
    labels : list of str
        ``"KET - PBO"``, one per contrast.
    by : list of str
        The ``by`` factors; ``by_keys[i]`` their levels for contrast ``i``.
    by_keys : list of tuple
    """

    cells: pd.DataFrame
    means: np.ndarray
    first: np.ndarray
    second: np.ndarray
    labels: list
    by: list
    by_keys: list

    @property
    def matrix(self) -> np.ndarray:
        """The contrast rows ``L`` (one per pair) over the fixed effects."""
        return self.means[self.first] - self.means[self.second]

    def label(self, table: pd.DataFrame) -> pd.DataFrame:
        """``table`` (one row per contrast) with ``by...`` and ``contrast`` in front."""
        table.insert(0, "contrast", self.labels)
        for position, name in enumerate(self.by):
            table.insert(position, name, [key[position] for key in self.by_keys])
        return table


@dataclass(frozen=True)
class ReferenceGrid:
    """Every combination of factor levels, covariates at their means.

    Attributes
    ----------
    factors : dict
        Factor name -> tuple of levels, in model order.
    covariate_means : dict
        Numeric variable -> mean over the analysed rows.
    cells : pandas.DataFrame
        One row per grid cell (factor columns only).
    design : numpy.ndarray
        The fixed-effects row of each cell.
    """

    factors: dict
    covariate_means: dict
    cells: pd.DataFrame
    design: np.ndarray
    frame: ModelFrame
    reference_levels: dict = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: ModelFrame) -> ReferenceGrid:
        columns = list(frame.data.columns)
        factors: dict = {}
        references: dict = {}
        numeric: list[str] = []
        for factor, info in frame.design_info.factor_infos.items():
            names = formula_variables(factor.code, columns)
            if info.type == "categorical" and len(names) == 1:
                factors.setdefault(names[0], tuple(info.categories))
                reference = _treatment_reference(frame.design_info, factor)
                if reference is not None:
                    references.setdefault(names[0], reference)
            elif info.type == "categorical":
                for name in names:
                    factors.setdefault(name, tuple(_levels(frame.data[name])))
            else:
                numeric.extend(n for n in names if n not in numeric)
        numeric = [n for n in numeric if n not in factors]
        means = {n: float(pd.to_numeric(frame.data[n]).mean()) for n in numeric}
        cells = pd.DataFrame(
            list(itertools.product(*factors.values())) or [()], columns=list(factors)
        )
        design = _design_rows(frame, cells, means)
        return cls(factors, means, cells, design, frame, references)

    # --------------------------------------------------------------- LS-means
    def lsmean_matrix(
        self, specs: list[str], weights: str = "equal", where: str = "lsmeans"
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Cells of ``specs`` (all level combinations) and their linear functions."""
        specs = as_list(specs)
        twice = sorted({s for s in specs if specs.count(s) > 1})
        if twice:
            raise DataValidationError(
                f"{where}: {twice} named twice (in specs and by); name each factor once."
            )
        unknown = [s for s in specs if s not in self.factors]
        if unknown:
            raise DataValidationError(
                f"{where}: LS-means need factors of the model; {unknown} are not among "
                f"{list(self.factors)} (numeric covariates are held at their mean)."
            )
        if weights not in ("equal", "proportional"):
            raise DataValidationError(
                f"{where}: weights must be 'equal' or 'proportional', got {weights!r}."
            )
        others = [f for f in self.factors if f not in specs]
        cell_weight: np.ndarray = np.ones(len(self.cells))
        if others and weights == "proportional":
            counts = self.frame.data.groupby(others, observed=True).size()
            keys = (
                pd.MultiIndex.from_frame(self.cells[others])
                if len(others) > 1
                else (pd.Index(self.cells[others[0]]))
            )
            cell_weight = counts.reindex(keys).fillna(0.0).to_numpy(dtype=float)
        targets = pd.DataFrame(
            list(itertools.product(*(self.factors[s] for s in specs))), columns=specs
        )
        rows = []
        for _, target in targets.iterrows():
            mask = np.ones(len(self.cells), dtype=bool)
            for s in specs:
                mask &= (self.cells[s] == target[s]).to_numpy()
            w = cell_weight[mask]
            if w.sum() == 0:
                raise DataValidationError(
                    f"{where}: no data for the proportional weights of cell {dict(target)}; "
                    "use weights='equal'."
                )
            rows.append((w / w.sum()) @ self.design[mask])
        return targets, np.vstack(rows)

    def contrasts(
        self,
        specs,
        by=None,
        method: str = "revpairwise",
        reference=None,
        weights: str = "equal",
        where: str = "contrast",
    ) -> Contrasts:
        """Pairs of LS-means of ``specs`` within each level of ``by`` (emmeans ``pairs``).

        ``revpairwise``: later level minus earlier; ``pairwise``: earlier minus later;
        ``trt_vs_ctrl``: every other level minus ``reference`` (default the first).
        ``where`` names the caller in error messages.
        """
        specs_list, by_list = as_list(specs), as_list(by)
        if method not in CONTRAST_METHODS:
            raise DataValidationError(
                f"{where}: method must be one of {list(CONTRAST_METHODS)}, got {method!r}."
            )
        cells, means = self.lsmean_matrix(by_list + specs_list, weights, where=where)
        cells = cells.reset_index(drop=True)
        labels = cells[specs_list].astype(str).agg(" ".join, axis=1).to_numpy()
        keys = [tuple(row) for row in cells[by_list].itertuples(index=False)] if by_list else [
            ()
        ] * len(cells)
        first, second, names, by_keys = [], [], [], []
        for key in dict.fromkeys(keys):
            idx = np.flatnonzero([k == key for k in keys])
            for i, j in _pairs(labels[idx], method, reference, where):
                first.append(idx[i])
                second.append(idx[j])
                names.append(f"{labels[idx[i]]} - {labels[idx[j]]}")
                by_keys.append(key)
        if not names:
            raise DataValidationError(
                f"{where}: no contrast to compute: the specs {specs_list} have a single level."
            )
        return Contrasts(cells, means, np.asarray(first), np.asarray(second), names, by_list,
                         by_keys)

    # ------------------------------------------------------------ Type III
    def type3_matrices(self) -> dict[str, np.ndarray]:
        """Hypothesis matrix of each model term (SAS Type III, emmeans joint tests)."""
        columns = list(self.frame.data.columns)
        hypotheses: dict[str, np.ndarray] = {}
        for term in self.frame.design_info.terms:
            if not term.factors:
                continue
            names: list[str] = []
            for factor in term.factors:
                names.extend(n for n in formula_variables(factor.code, columns) if n not in names)
            term_factors = [n for n in names if n in self.factors]
            term_numeric = [n for n in names if n in self.covariate_means]
            # a numeric variable enters through its unit slope: inclusion-exclusion of
            # +1 shifts gives the (mixed) difference over all numeric variables of the term
            matrix: np.ndarray | float = 0.0
            for shifted in itertools.product((0, 1), repeat=len(term_numeric)):
                means = dict(self.covariate_means)
                for name, step in zip(term_numeric, shifted, strict=True):
                    means[name] += step
                sign = (-1.0) ** (len(term_numeric) - sum(shifted))
                matrix = matrix + sign * self._rows_at(means, term_factors)
            if term_factors:
                # rows "level - reference level", the reference taking SAS's last place:
                # the Satterthwaite df of an F test depends on this choice of rows
                difference: np.ndarray = np.ones((1, 1))
                for name in term_factors:
                    n = len(self.factors[name])
                    reference = self.reference_levels.get(name, n - 1)
                    block = np.delete(np.eye(n), reference, axis=0)
                    block[:, reference] = -1.0
                    difference = np.kron(difference, block)
                matrix = difference @ matrix
            hypotheses[term.name()] = np.atleast_2d(matrix)
        return hypotheses

    def _rows_at(self, means: dict, term_factors: list[str]) -> np.ndarray:
        """Equal-weight LS-mean rows over ``term_factors`` with covariates at ``means``."""
        grid = self
        if means != self.covariate_means:
            design = _design_rows(self.frame, self.cells, means)
            grid = ReferenceGrid(
                self.factors, means, self.cells, design, self.frame, self.reference_levels
            )
        if term_factors:
            return grid.lsmean_matrix(term_factors)[1]
        return grid.design.mean(axis=0, keepdims=True)


def _pairs(labels, method: str, reference, where: str) -> list[tuple[int, int]]:
    n = len(labels)
    if method == "pairwise":
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    if method == "revpairwise":
        return [(j, i) for i in range(n) for j in range(i + 1, n)]
    ref = 0
    if reference is not None:
        names = [str(label) for label in labels]
        if str(reference) not in names:
            raise DataValidationError(
                f"{where}: reference={reference!r} is not a level of the specs; "
                f"use one of {names}."
            )
        ref = names.index(str(reference))
    return [(i, ref) for i in range(n) if i != ref]


def _treatment_reference(design_info: patsy.DesignInfo, factor) -> int | None:
    """Index of the level coded as all zeros (treatment coding), if any."""
    for coding in design_info.term_codings.values():
        for subterm in coding:
            contrast = subterm.contrast_matrices.get(factor)
            if contrast is None:
                continue
            zero_rows = np.flatnonzero(np.all(contrast.matrix == 0, axis=1))
            if zero_rows.size == 1 and contrast.matrix.shape[1] == contrast.matrix.shape[0] - 1:
                return int(zero_rows[0])
    return None


def _levels(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    return sorted(values.dropna().unique().tolist())


def _design_rows(frame: ModelFrame, cells: pd.DataFrame, means: dict) -> np.ndarray:
    grid = cells.copy()
    for name in grid.columns:
        source = frame.data[name]
        if isinstance(source.dtype, pd.CategoricalDtype):
            grid[name] = pd.Categorical(grid[name], categories=source.cat.categories)
    for name, value in means.items():
        grid[name] = value
    if grid.shape[1] == 0:
        grid = pd.DataFrame(index=[0])
    (design,) = patsy.build_design_matrices([frame.design_info], grid)
    design = np.asarray(design, dtype=float)
    if design.shape[0] != len(cells) and len(cells) > 0 and design.shape[0] == 1:
        design = np.repeat(design, len(cells), axis=0)
    return design
