"""The immutable result of :func:`ketex.gee`: estimates, correlations, predictions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from ketex.models._design import ModelFrame
from ketex.models._gee_engine import Family, Fit, WorkingCorrelation
from ketex.models.lsmeans import ReferenceGrid
from ketex.models.multiplicity import adjust_contrasts
from ketex.models.result import _as_list, _pairs

__all__ = ["GEEResult", "VCOV_TYPES"]

VCOV_TYPES = ("robust", "mancl-derouen", "kauermann-carroll", "model")
TEST_COLUMNS = ["estimate", "se", "df", "statistic", "p_value", "ci_low", "ci_high"]
_RATIO_COLUMNS = {
    "logit": ("odds_ratio", "or_ci_low", "or_ci_high"),
    "log": ("rate_ratio", "rr_ci_low", "rr_ci_high"),
}


def _readonly(array) -> np.ndarray:
    array = np.array(array, dtype=float, copy=True)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class GEEResult:
    """A fitted GEE (immutable).

    Attributes
    ----------
    coef : pandas.DataFrame
        ``term, estimate, se, df, statistic, p_value, ci_low, ci_high`` on the link
        scale (log odds for the binomial family), with the covariance ``vcov_type``;
        ``df`` is infinite for Wald z tests. Then ``odds_ratio, or_ci_low, or_ci_high``
        (binomial) or ``rate_ratio, rr_ci_low, rr_ci_high`` (Poisson): the
        exponentiated estimate and interval.
    vcov : pandas.DataFrame
        Covariance of the estimates used in ``coef`` (``vcov_type``).
    standard_errors : pandas.DataFrame
        ``term, model, robust, mancl_derouen, kauermann_carroll``: the standard error of
        each coefficient under each covariance, side by side.
    correlation : str
        The working correlation structure.
    correlation_parameters : pandas.DataFrame
        ``parameter, estimate``: ``alpha`` (exchangeable, ar1) or one row per pair of
        visits ``"W2:W4"`` (unstructured); empty for independence.
    working_correlation : pandas.DataFrame
        The estimated working correlation over the visits (over positions 1, 2, ...
        when no ``time`` was given).
    scale : float
        ``phi``, the mean squared Pearson residual (geepack's scale parameter).
    family, link, vcov_type : str
    df_method : str
        ``"normal"`` (z), ``"clusters"`` (t on ``n_clusters - p``) or ``"fixed"``.
    df : float
        Degrees of freedom of the t reference (infinite for z).
    n_obs, n_clusters, n_missing_outcome, n_missing_covariates : int
    converged : bool
    iterations : int
    conf_level : float
    formula, groups : str
    time : str or None

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ketex.models.gee import gee
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(30), 2), "visit": np.tile(["W4", "W8"], 30),
    ...                   "arm": np.repeat(np.tile(["control", "exercise"], 15), 2)})
    >>> d["response"] = (rng.random(60) < np.where(d["arm"] == "exercise", 0.6, 0.3)).astype(int)
    >>> fit = gee(d, "response ~ arm * visit", subject="id", time="visit")
    >>> fit.contrast("arm", by="visit")[["visit", "contrast", "odds_ratio"]].round(2)
      visit            contrast  odds_ratio
    0    W4  exercise - control        4.12
    1    W8  exercise - control        8.00
    >>> fit.probability_differences("arm", by="visit")[["visit", "estimate"]].round(3)
      visit  estimate
    0    W4     0.333
    1    W8     0.467
    """

    coef: pd.DataFrame
    vcov: pd.DataFrame
    standard_errors: pd.DataFrame
    correlation: str
    correlation_parameters: pd.DataFrame
    working_correlation: pd.DataFrame
    scale: float
    family: str
    link: str
    vcov_type: str
    df_method: str
    df: float
    n_obs: int
    n_clusters: int
    n_missing_outcome: int
    n_missing_covariates: int
    converged: bool
    iterations: int
    conf_level: float
    formula: str
    groups: str
    time: str | None
    _frame: ModelFrame = field(repr=False)
    _family: Family = field(repr=False)
    _beta: np.ndarray = field(repr=False)
    _vcov: np.ndarray = field(repr=False)

    @classmethod
    def build(
        cls,
        *,
        frame: ModelFrame,
        fit: Fit,
        family: Family,
        structure: WorkingCorrelation,
        covariances: dict,
        vcov_type: str,
        df: float,
        df_method: str,
        conf_level: float,
        working: pd.DataFrame,
        visit_labels,
        groups: str,
        time: str | None,
    ) -> GEEResult:
        names = list(frame.column_names)
        chosen = covariances[vcov_type]
        table = _wald(np.eye(len(names)), fit.beta, chosen, df, conf_level)
        table.insert(0, "term", names)
        table = _with_ratios(table, family.link)
        standard_errors = pd.DataFrame({"term": names})
        for name in ("model", "robust", "mancl-derouen", "kauermann-carroll"):
            standard_errors[name.replace("-", "_")] = np.sqrt(np.diag(covariances[name]))
        parameters = pd.DataFrame(
            {"parameter": structure.parameter_names(visit_labels), "estimate": fit.alpha},
            columns=["parameter", "estimate"],
        )
        return cls(
            coef=table,
            vcov=pd.DataFrame(_readonly(chosen), index=names, columns=names),
            standard_errors=standard_errors,
            correlation=structure.name,
            correlation_parameters=parameters,
            working_correlation=working,
            scale=float(fit.scale),
            family=family.name,
            link=family.link,
            vcov_type=vcov_type,
            df_method=df_method,
            df=float(df),
            n_obs=int(frame.x.shape[0]),
            n_clusters=len(frame.subject_labels),
            n_missing_outcome=int(frame.n_missing_outcome),
            n_missing_covariates=int(frame.n_missing_covariates),
            converged=bool(fit.converged),
            iterations=int(fit.iterations),
            conf_level=float(conf_level),
            formula=frame.formula,
            groups=groups,
            time=time,
            _frame=frame,
            _family=family,
            _beta=_readonly(fit.beta),
            _vcov=_readonly(chosen),
        )

    # ---------------------------------------------------------------- tests
    def test(self, contrast, labels=None) -> pd.DataFrame:
        """Wald tests of linear combinations ``contrast @ beta`` (link scale).

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
        matrix = self._contrast_matrix(contrast)
        table = _wald(matrix, self._beta, self._vcov, self.df, self.conf_level)
        table.insert(0, "label", list(labels) if labels is not None else range(len(table)))
        return table

    def anova(self) -> pd.DataFrame:
        """Type III Wald tests of each model term (emmeans ``joint_tests``).

        Returns
        -------
        pandas.DataFrame
            ``term, num_df, den_df, statistic, p_value``: ``statistic`` is the Wald
            chi-square divided by ``num_df``, referred to F(``num_df``, ``den_df``);
            ``den_df`` is infinite (a chi-square test) unless ``df`` was given.
        """
        rows = []
        for term, matrix in self._grid().type3_matrices().items():
            rows.append({"term": term, **self._f_test(matrix)})
        return pd.DataFrame(rows, columns=["term", "num_df", "den_df", "statistic", "p_value"])

    def _f_test(self, matrix: np.ndarray) -> dict:
        covariance = matrix @ self._vcov @ matrix.T
        values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
        keep = values > np.sqrt(np.finfo(float).eps) * max(values.max(), 0.0)
        matrix = vectors[:, keep].T @ matrix
        estimate = matrix @ self._beta
        chi_square = float(estimate @ np.linalg.solve(matrix @ self._vcov @ matrix.T, estimate))
        rank = int(keep.sum())
        statistic = chi_square / rank
        if np.isinf(self.df):
            p_value = float(stats.chi2.sf(chi_square, rank))
        else:
            p_value = float(stats.f.sf(statistic, rank, self.df))
        return {
            "num_df": float(rank),
            "den_df": self.df,
            "statistic": statistic,
            "p_value": p_value,
        }

    # ----------------------------------------------------------- predictions
    def _grid(self) -> ReferenceGrid:
        return ReferenceGrid.from_frame(self._frame)

    def _cells(self, specs, by, weights):
        specs_list, by_list = _as_list(specs), _as_list(by)
        cells, matrix = self._grid().lsmean_matrix(by_list + specs_list, weights)
        return specs_list, by_list, cells.reset_index(drop=True), matrix

    def marginal_means(
        self, specs: str | list[str], by: str | list[str] | None = None, weights: str = "equal"
    ) -> pd.DataFrame:
        """Marginal means on the response scale over a reference grid (emmeans).

        The linear predictor is averaged over the factors not named (equal weights, or
        proportional to their frequencies) with numeric covariates at their means, then
        transformed by the inverse link: emmeans ``type = "response"``.

        Parameters
        ----------
        specs : str or list of str
            Factor(s) whose level combinations get a mean (e.g. ``"arm"``).
        by : str or list of str, optional
            Factor(s) to condition on (e.g. ``"visit"``).
        weights : {"equal", "proportional"}

        Returns
        -------
        pandas.DataFrame
            ``by..., specs..., mean, se, ci_low, ci_high``: SE by the delta method; the
            interval is computed on the link scale and transformed back (so a
            probability's interval stays inside (0, 1)).
        """
        _, _, cells, matrix = self._cells(specs, by, weights)
        eta = matrix @ self._beta
        eta_se = np.sqrt(np.einsum("ia,ab,ib->i", matrix, self._vcov, matrix))
        mean = self._family.mean(eta)
        quantile = _quantile(self.df, self.conf_level)
        out = cells.copy()
        out["mean"] = mean
        out["se"] = eta_se * np.abs(self._family.mean_derivative(eta))
        out["ci_low"] = self._family.mean(eta - quantile * eta_se)
        out["ci_high"] = self._family.mean(eta + quantile * eta_se)
        return out

    def predicted_probabilities(
        self, specs: str | list[str], by: str | list[str] | None = None, weights: str = "equal"
    ) -> pd.DataFrame:
        """Marginal response (remission) probabilities, e.g. by arm and visit.

        :meth:`marginal_means` of a binomial fit with the column ``probability``: the
        population-averaged probability at each cell, as emmeans ``type = "response"``.

        Returns
        -------
        pandas.DataFrame
            ``by..., specs..., probability, se, ci_low, ci_high``.
        """
        self._require_binomial("predicted_probabilities")
        return self.marginal_means(specs, by, weights).rename(columns={"mean": "probability"})

    def contrast(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        method: str = "revpairwise",
        reference=None,
        weights: str = "equal",
        adjust: str | None = None,
    ) -> pd.DataFrame:
        """Differences of reference-grid means on the link scale: log odds ratios.

        Parameters
        ----------
        specs, by, weights
            As in :meth:`marginal_means`.
        method : {"revpairwise", "pairwise", "trt_vs_ctrl"}
            ``revpairwise``: later level minus earlier (``exercise - control``);
            ``pairwise``: earlier minus later; ``trt_vs_ctrl``: each level minus
            ``reference``.
        reference : optional
            Control level for ``trt_vs_ctrl`` (default: the first level).
        adjust : {None, "dunnett", "holm", "bonferroni", "none"}
            Multiplicity adjustment within each ``by`` level, as
            :meth:`ketex.MMRMResult.contrast` (on the link scale).

        Returns
        -------
        pandas.DataFrame
            ``by..., contrast, estimate, se, df, statistic, p_value, ci_low, ci_high``,
            then ``odds_ratio, or_ci_low, or_ci_high`` (binomial) or ``rate_ratio,
            rr_ci_low, rr_ci_high`` (Poisson): population-averaged ratios, as
            ``pairs(emmeans(fit, ~ arm | visit), reverse = TRUE)``; with ``adjust``
            also ``adjust, p_value_adjusted, ci_low_adjusted, ci_high_adjusted``.
        """
        names, by_rows, rows = self._pair_rows(specs, by, method, reference, weights)
        matrix = np.vstack(rows)
        table = _wald(matrix, self._beta, self._vcov, self.df, self.conf_level)
        table = _with_ratios(self._label(table, names, by_rows, _as_list(by)), self.link)
        if adjust is None:
            return table
        return adjust_contrasts(table, matrix @ self._vcov @ matrix.T, by_rows, adjust,
                                self.conf_level)

    def probability_differences(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        method: str = "revpairwise",
        reference=None,
        weights: str = "equal",
    ) -> pd.DataFrame:
        """Differences of marginal probabilities (risk differences), e.g. between arms.

        Parameters
        ----------
        specs, by, method, reference, weights
            As in :meth:`contrast`.

        Returns
        -------
        pandas.DataFrame
            ``by..., contrast, estimate, se, df, statistic, p_value, ci_low, ci_high``
            on the probability scale: Wald tests and intervals with the delta-method
            SE, as ``pairs(regrid(emmeans(fit, ~ arm | visit)), reverse = TRUE)``.
        """
        self._require_binomial("probability_differences")
        _, _, cells, matrix = self._cells(specs, by, weights)
        eta = matrix @ self._beta
        probability = self._family.mean(eta)
        gradient = self._family.mean_derivative(eta)[:, None] * matrix
        specs_list, by_list = _as_list(specs), _as_list(by)
        labels = cells[specs_list].astype(str).agg(" ".join, axis=1).to_numpy()
        keys = cells[by_list].apply(tuple, axis=1) if by_list else pd.Series([()] * len(cells))
        names, by_rows, estimates, gradients = [], [], [], []
        for key in dict.fromkeys(keys):
            idx = np.flatnonzero((keys == key).to_numpy())
            for first, second in _pairs(labels[idx], method, reference):
                i, j = idx[first], idx[second]
                names.append(f"{labels[i]} - {labels[j]}")
                by_rows.append(key)
                estimates.append(probability[i] - probability[j])
                gradients.append(gradient[i] - gradient[j])
        if not names:
            raise ValueError("No contrast to compute: the specs have a single level.")
        gradients_matrix = np.vstack(gradients)
        se = np.sqrt(np.einsum("ia,ab,ib->i", gradients_matrix, self._vcov, gradients_matrix))
        table = _table(np.asarray(estimates), se, self.df, self.conf_level)
        return self._label(table, names, by_rows, by_list)

    def _pair_rows(self, specs, by, method, reference, weights):
        specs_list, by_list, cells, matrix = self._cells(specs, by, weights)
        labels = cells[specs_list].astype(str).agg(" ".join, axis=1).to_numpy()
        keys = cells[by_list].apply(tuple, axis=1) if by_list else pd.Series([()] * len(cells))
        rows, names, by_rows = [], [], []
        for key in dict.fromkeys(keys):
            idx = np.flatnonzero((keys == key).to_numpy())
            for first, second in _pairs(labels[idx], method, reference):
                rows.append(matrix[idx[first]] - matrix[idx[second]])
                names.append(f"{labels[idx[first]]} - {labels[idx[second]]}")
                by_rows.append(key)
        if not rows:
            raise ValueError("No contrast to compute: the specs have a single level.")
        return names, by_rows, rows

    @staticmethod
    def _label(table, names, by_rows, by_list) -> pd.DataFrame:
        table.insert(0, "contrast", names)
        for position, name in enumerate(by_list):
            table.insert(position, name, [k[position] for k in by_rows])
        return table

    def predict(self, newdata: pd.DataFrame | None = None) -> pd.Series:
        """Marginal means ``g^-1(x' beta)`` (probabilities for the binomial family).

        Fitted values of the analysed rows when ``newdata`` is None; rows of
        ``newdata`` with a missing covariate get NaN.
        """
        frame = self._frame
        if newdata is None:
            return pd.Series(
                self._family.mean(frame.x @ self._beta), index=frame.data.index, name="predicted"
            )
        rows = newdata.reset_index(drop=True)
        (design,) = patsy.build_design_matrices(
            [frame.design_info], rows, NA_action="drop", return_type="dataframe"
        )
        values = np.full(len(rows), np.nan)
        values[design.index.to_numpy()] = self._family.mean(design.to_numpy(float) @ self._beta)
        return pd.Series(values, index=newdata.index, name="predicted")

    def summary(self) -> str:
        """A short text summary."""
        reference = "normal (z)" if np.isinf(self.df) else f"t with {self.df:g} df"
        parameters = ", ".join(
            f"{p} = {e:.4f}" for p, e in self.correlation_parameters.itertuples(index=False)
        )
        lines = [
            f"GEE ({self.family}, {self.link} link), working correlation '{self.correlation}'",
            f"formula: {self.formula}",
            f"observations: {self.n_obs} in {self.n_clusters} clusters "
            f"({self.n_missing_outcome} missing outcomes dropped)",
            f"correlation parameters: {parameters or 'none'}; scale: {self.scale:.4f}",
            f"covariance: {self.vcov_type}; reference distribution: {reference}",
            f"converged: {self.converged} ({self.iterations} iterations)",
            "",
            self.coef.to_string(index=False),
        ]
        return "\n".join(lines)

    def _require_binomial(self, what: str) -> None:
        if self.family != "binomial":
            raise ValueError(
                f"{what} needs a binomial fit; this one is {self.family}: use marginal_means."
            )

    def _contrast_matrix(self, contrast) -> np.ndarray:
        matrix = np.atleast_2d(np.asarray(contrast, dtype=float))
        if matrix.shape[1] != len(self.coef):
            raise ValueError(
                f"contrast needs {len(self.coef)} columns (one per term), got {matrix.shape[1]}."
            )
        return matrix


def _quantile(df: float, conf_level: float) -> float:
    upper = 0.5 + conf_level / 2.0
    return float(stats.norm.ppf(upper) if np.isinf(df) else stats.t.ppf(upper, df))


def _table(estimate, se, df, conf_level) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / se
    if np.isinf(df):
        p_value = 2.0 * stats.norm.sf(np.abs(statistic))
    else:
        p_value = 2.0 * stats.t.sf(np.abs(statistic), df)
    quantile = _quantile(df, conf_level)
    return pd.DataFrame(
        {
            "estimate": estimate,
            "se": se,
            "df": np.full(len(estimate), df),
            "statistic": statistic,
            "p_value": p_value,
            "ci_low": estimate - quantile * se,
            "ci_high": estimate + quantile * se,
        }
    )[TEST_COLUMNS]


def _wald(matrix, beta, vcov, df, conf_level) -> pd.DataFrame:
    estimate = matrix @ beta
    se = np.sqrt(np.einsum("ia,ab,ib->i", matrix, vcov, matrix))
    return _table(estimate, se, df, conf_level)


def _with_ratios(table: pd.DataFrame, link: str) -> pd.DataFrame:
    if link not in _RATIO_COLUMNS:
        return table
    ratio, low, high = _RATIO_COLUMNS[link]
    with np.errstate(over="ignore"):
        table[ratio] = np.exp(table["estimate"])
        table[low] = np.exp(table["ci_low"])
        table[high] = np.exp(table["ci_high"])
    return table
