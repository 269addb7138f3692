"""The immutable result of :func:`ketex.models.mmrm.mmrm` and its inference methods."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy

from ketex.models._design import ModelFrame
from ketex.models._inference import Inference
from ketex.models.covariance import CovarianceStructure
from ketex.models.lsmeans import ReferenceGrid
from ketex.models.multiplicity import adjust_contrasts

__all__ = ["MMRMResult"]


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float, copy=True)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class MMRMResult:
    """A fitted MMRM (immutable).

    Attributes
    ----------
    coef : pandas.DataFrame
        ``term, estimate, se, df, statistic, p_value, ci_low, ci_high``, one row per
        fixed-effect column (t tests with the fit's df method).
    vcov : pandas.DataFrame
        Covariance of the fixed effects (Kenward-Roger adjusted or empirical when
        requested).
    covariance_matrix : pandas.DataFrame or dict of DataFrame
        Estimated covariance over visits; a dict keyed by level when ``group`` was given.
    loglik, aic, bic : float
        Log (restricted) likelihood; ``aic = -2 loglik + 2 p`` and
        ``bic = -2 loglik + p log(n_subjects)`` with ``p`` the variance parameters
        (plus fixed effects under ML), as SAS PROC MIXED.
    n_obs, n_subjects, n_missing_outcome, n_missing_covariates : int
    converged : bool
    optimiser : str
    messages : tuple of str
        What each optimiser (and structure) reported.
    covariance : str
        The covariance structure used (the first that converged of a fallback list).
    method, df_method : str
    theta : numpy.ndarray
        Variance parameters on the structure's parametrisation.
    theta_vcov : numpy.ndarray
        Their asymptotic covariance (inverse observed information).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ketex.models import mmrm
    >>> rng = np.random.default_rng(3)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(40), 2), "visit": np.tile(["W1", "W2"], 40),
    ...                   "arm": np.repeat(np.tile(["PBO", "KET"], 20), 2)})
    >>> d["y"] = rng.normal(size=80) - 1.0 * (d["arm"] == "KET")
    >>> fit = mmrm(d, "y ~ C(arm, Treatment('PBO')) * visit", subject="id", visit="visit")
    >>> fit.lsmeans("arm", by="visit")[["visit", "arm"]].values.tolist()
    [['W1', 'KET'], ['W1', 'PBO'], ['W2', 'KET'], ['W2', 'PBO']]
    >>> fit.contrast("arm", by="visit", method="trt_vs_ctrl", reference="PBO")["contrast"].tolist()
    ['KET - PBO', 'KET - PBO']
    >>> fit.anova()["term"].tolist()
    ["C(arm, Treatment('PBO'))", 'visit', "C(arm, Treatment('PBO')):visit"]
    """

    coef: pd.DataFrame
    vcov: pd.DataFrame
    covariance_matrix: pd.DataFrame | dict
    loglik: float
    aic: float
    bic: float
    n_obs: int
    n_subjects: int
    n_missing_outcome: int
    n_missing_covariates: int
    converged: bool
    optimiser: str
    messages: tuple[str, ...]
    covariance: str
    method: str
    df_method: str
    theta: np.ndarray
    theta_vcov: np.ndarray
    _frame: ModelFrame = field(repr=False)
    _inference: Inference = field(repr=False)
    _sigmas: tuple = field(repr=False)
    _structure: CovarianceStructure = field(repr=False)

    @classmethod
    def build(
        cls,
        *,
        frame,
        inference,
        theta,
        sigmas,
        minus_two_loglik,
        n_variance_params,
        converged,
        optimiser,
        messages,
        covariance,
        method,
        structure,
    ) -> MMRMResult:
        names = list(frame.column_names)
        table = inference.t_tests(np.eye(len(names)))
        table.insert(0, "term", names)
        visits = [str(v) for v in frame.visit_levels]
        matrices = {
            level: pd.DataFrame(_readonly(s), index=visits, columns=visits)
            for level, s in zip(frame.group_levels, sigmas, strict=True)
        }
        covariance_matrix = matrices[None] if list(matrices) == [None] else matrices
        n_subjects = int(frame.subject_codes.max()) + 1
        n_par = n_variance_params + (len(names) if method == "ml" else 0)
        return cls(
            coef=table,
            vcov=pd.DataFrame(_readonly(inference.beta_vcov), index=names, columns=names),
            covariance_matrix=covariance_matrix,
            loglik=-0.5 * float(minus_two_loglik),
            aic=float(minus_two_loglik + 2 * n_par),
            bic=float(minus_two_loglik + n_par * np.log(n_subjects)),
            n_obs=int(frame.x.shape[0]),
            n_subjects=n_subjects,
            n_missing_outcome=int(frame.n_missing_outcome),
            n_missing_covariates=int(frame.n_missing_covariates),
            converged=bool(converged),
            optimiser=optimiser,
            messages=tuple(messages),
            covariance=covariance,
            method=method,
            df_method=inference.df_method,
            theta=_readonly(theta),
            theta_vcov=_readonly(inference.theta_vcov),
            _frame=frame,
            _inference=inference,
            _sigmas=tuple(_readonly(s) for s in sigmas),
            _structure=structure,
        )

    # ---------------------------------------------------------------- tests
    def test(self, contrast, labels=None) -> pd.DataFrame:
        """t tests of linear combinations ``contrast @ beta``.

        Parameters
        ----------
        contrast : array-like, shape (q, k) or (k,)
            One row per combination, one column per term of :attr:`coef`.
        labels : sequence of str, optional

        Returns
        -------
        pandas.DataFrame
            ``label, estimate, se, df, statistic, p_value, ci_low, ci_high``.
        """
        matrix = np.atleast_2d(np.asarray(contrast, dtype=float))
        if matrix.shape[1] != len(self.coef):
            raise ValueError(
                f"contrast needs {len(self.coef)} columns (one per term), got {matrix.shape[1]}."
            )
        table = self._inference.t_tests(matrix)
        table.insert(0, "label", list(labels) if labels is not None else range(len(table)))
        return table

    def _grid(self) -> ReferenceGrid:
        return ReferenceGrid.from_frame(self._frame)

    def lsmeans(
        self, specs: str | list[str], by: str | list[str] | None = None, weights: str = "equal"
    ) -> pd.DataFrame:
        """Least-squares means (SAS LSMEANS, emmeans).

        Parameters
        ----------
        specs : str or list of str
            Factor(s) whose level combinations get an LS-mean.
        by : str or list of str, optional
            Factor(s) to condition on (a table per level), e.g. the visit.
        weights : {"equal", "proportional"}
            Averaging over the remaining factors: equal weights (SAS default) or
            proportional to their observed frequencies (SAS ``OM``).

        Returns
        -------
        pandas.DataFrame
            ``by..., specs..., estimate, se, df, statistic, p_value, ci_low, ci_high``
            (the t test is against zero).
        """
        specs_list, by_list = _as_list(specs), _as_list(by)
        cells, matrix = self._grid().lsmean_matrix(by_list + specs_list, weights)
        table = self._inference.t_tests(matrix)
        return pd.concat([cells.reset_index(drop=True), table], axis=1)

    def contrast(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        method: str = "revpairwise",
        reference=None,
        weights: str = "equal",
        adjust: str | None = None,
    ) -> pd.DataFrame:
        """Differences of LS-means with df, CI and p-values, optionally multiplicity-adjusted.

        Parameters
        ----------
        specs, by, weights
            As in :meth:`lsmeans`.
        method : {"revpairwise", "pairwise", "trt_vs_ctrl"}
            ``revpairwise``: later level minus earlier (e.g. ``TRT - PBO``);
            ``pairwise``: earlier minus later (emmeans's ``pairwise``);
            ``trt_vs_ctrl``: every other level minus ``reference``.
        reference : optional
            Control level for ``trt_vs_ctrl`` (default: the first level).
        adjust : {None, "dunnett", "holm", "bonferroni", "none"}
            Multiplicity adjustment within each ``by`` level (the family): ``"dunnett"``
            is emmeans's ``adjust = "mvt"`` (multivariate t with the contrasts'
            correlation; simultaneous intervals), ``"holm"`` the step-down procedure,
            ``"bonferroni"``; see :mod:`ketex.models.multiplicity`. None (default): the
            unadjusted table without the extra columns.

        Returns
        -------
        pandas.DataFrame
            ``by..., contrast, estimate, se, df, statistic, p_value, ci_low, ci_high``;
            with ``adjust`` also ``adjust, p_value_adjusted, ci_low_adjusted,
            ci_high_adjusted`` (``p_value`` and ``ci_*`` stay unadjusted).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from ketex.models import mmrm
        >>> rng = np.random.default_rng(5)
        >>> d = pd.DataFrame({"id": np.repeat(np.arange(60), 2),
        ...                   "visit": np.tile(["W1", "W2"], 60),
        ...                   "arm": np.repeat(np.tile(["CTRL", "A", "B"], 20), 2)})
        >>> d["y"] = rng.normal(size=120) - 1.0 * (d["arm"] == "A")
        >>> fit = mmrm(d, "y ~ arm * visit", subject="id", visit="visit")
        >>> out = fit.contrast("arm", by="visit", method="trt_vs_ctrl", reference="CTRL",
        ...                    adjust="dunnett")
        >>> out[["visit", "contrast", "adjust"]].values.tolist()[:2]
        [['W1', 'A - CTRL', 'dunnett'], ['W1', 'B - CTRL', 'dunnett']]
        >>> bool((out["p_value_adjusted"] >= out["p_value"]).all())
        True
        """
        specs_list, by_list = _as_list(specs), _as_list(by)
        grid = self._grid()
        cells, matrix = grid.lsmean_matrix(by_list + specs_list, weights)
        labels = cells[specs_list].astype(str).agg(" ".join, axis=1).to_numpy()
        if by_list:
            by_keys = cells[by_list].apply(tuple, axis=1)
            groups = list(dict.fromkeys(by_keys))
        else:
            by_keys = pd.Series([()] * len(cells))
            groups = [()]
        rows, names, by_rows = [], [], []
        for key in groups:
            idx = np.flatnonzero((by_keys == key).to_numpy()) if by_list else np.arange(len(cells))
            for first, second in _pairs(labels[idx], method, reference):
                rows.append(matrix[idx[first]] - matrix[idx[second]])
                names.append(f"{labels[idx[first]]} - {labels[idx[second]]}")
                by_rows.append(key)
        if not rows:
            raise ValueError("No contrast to compute: the specs have a single level.")
        matrix = np.vstack(rows)
        table = self._inference.t_tests(matrix)
        table.insert(0, "contrast", names)
        for position, name in enumerate(by_list):
            table.insert(position, name, [k[position] for k in by_rows])
        if adjust is None:
            return table
        return adjust_contrasts(
            table, matrix @ self._inference.beta_vcov @ matrix.T, by_rows, adjust,
            self._inference.confidence_level,
        )

    def anova(self) -> pd.DataFrame:
        """Type III F tests of each model term (SAS Type 3 Tests of Fixed Effects).

        Returns
        -------
        pandas.DataFrame
            ``term, num_df, den_df, statistic, p_value``.
        """
        rows = []
        for term, matrix in self._grid().type3_matrices().items():
            rows.append({"term": term, **self._inference.f_test(matrix)})
        return pd.DataFrame(rows, columns=["term", "num_df", "den_df", "statistic", "p_value"])

    # ----------------------------------------------------------- predictions
    def predict(self, newdata: pd.DataFrame | None = None) -> pd.Series:
        """Population-level predictions ``X beta`` (fitted values when ``newdata`` is None).

        Rows of ``newdata`` with a missing covariate get NaN.
        """
        beta = self._inference.beta
        if newdata is None:
            fitted = self._frame.x @ beta
            return pd.Series(fitted, index=self._frame.data.index, name="predicted")
        frame = newdata.reset_index(drop=True)
        (design,) = patsy.build_design_matrices(
            [self._frame.design_info], frame, NA_action="drop", return_type="dataframe"
        )
        values = np.full(len(frame), np.nan)
        values[design.index.to_numpy()] = design.to_numpy(dtype=float) @ beta
        return pd.Series(values, index=newdata.index, name="predicted")

    def residuals(self, type: str = "response") -> pd.Series:  # noqa: A002 - R/SAS name
        """Residuals of the analysed rows (sorted by subject, then visit).

        Parameters
        ----------
        type : {"response", "pearson", "normalized"}
            ``y - X beta``; divided by the model standard deviation of each
            observation; or whitened within subject by the Cholesky factor of its
            covariance (uncorrelated with unit variance under the model).
        """
        frame = self._frame
        response = frame.y - frame.x @ self._inference.beta
        if type == "response":
            values = response
        elif type in ("pearson", "normalized"):
            values = self._scaled_residuals(response, normalized=(type == "normalized"))
        else:
            raise ValueError("type must be 'response', 'pearson' or 'normalized'.")
        return pd.Series(values, index=frame.data.index, name=f"{type}_residual")

    def _scaled_residuals(self, response: np.ndarray, normalized: bool) -> np.ndarray:
        frame = self._frame
        scaled = response * np.sqrt(frame.weights)
        out = np.empty_like(scaled)
        starts = np.flatnonzero(np.r_[True, np.diff(frame.subject_codes) != 0])
        ends = np.r_[starts[1:], len(scaled)]
        for start, end in zip(starts, ends, strict=True):
            visits = frame.visit_codes[start:end]
            sigma = self._sigmas[frame.group_codes[start]][np.ix_(visits, visits)]
            if normalized:
                out[start:end] = np.linalg.solve(np.linalg.cholesky(sigma), scaled[start:end])
            else:
                out[start:end] = scaled[start:end] / np.sqrt(np.diag(sigma))
        return out

    def summary(self) -> str:
        """A short text summary."""
        lines = [
            f"MMRM ({self.method.upper()}, covariance '{self.covariance}', df: {self.df_method})",
            f"formula: {self._frame.formula}",
            f"observations: {self.n_obs} from {self.n_subjects} subjects "
            f"({self.n_missing_outcome} missing outcomes dropped)",
            f"-2 log likelihood: {-2 * self.loglik:.4f}  AIC: {self.aic:.4f}  BIC: {self.bic:.4f}",
            f"converged: {self.converged} ({self.optimiser})",
            "",
            self.coef.to_string(index=False),
        ]
        return "\n".join(lines)


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _pairs(labels, method: str, reference):
    n = len(labels)
    if method == "pairwise":
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    if method == "revpairwise":
        return [(j, i) for i in range(n) for j in range(i + 1, n)]
    if method == "trt_vs_ctrl":
        ref = 0 if reference is None else list(labels).index(str(reference))
        return [(i, ref) for i in range(n) if i != ref]
    raise ValueError("method must be 'revpairwise', 'pairwise' or 'trt_vs_ctrl'.")
