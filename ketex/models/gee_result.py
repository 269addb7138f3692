"""The immutable result of :func:`ketex.gee`: estimates, correlations, predictions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.models import _result_api as shared
from ketex.models._design import ModelFrame
from ketex.models._gee_engine import Family, Fit, WorkingCorrelation
from ketex.models._inference import Inference, critical_value, wald_table
from ketex.models._inference import readonly as _readonly
from ketex.models._result_api import ModelResult
from ketex.models.lsmeans import as_list

__all__ = ["GEEResult", "VCOV_TYPES"]

VCOV_TYPES = ("robust", "mancl-derouen", "kauermann-carroll", "model")
_RATIO_COLUMNS = {
    "logit": ("odds_ratio", "or_ci_low", "or_ci_high"),
    "log": ("rate_ratio", "rr_ci_low", "rr_ci_high"),
}


@dataclass(frozen=True, repr=False)
class GEEResult(ModelResult):
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
    n_obs, n_subjects, n_missing_outcome, n_missing_covariates : int
        ``n_subjects``: the clusters (``n_clusters`` is its deprecated alias).
    converged : bool
    iterations : int
    conf_level : float
        Default level of every interval; each method takes ``conf_level=`` too.
    formula, groups : str
        ``groups``: the subject (cluster) column.
    time : str or None

    Notes
    -----
    :meth:`lsmeans`, :meth:`contrast`, :meth:`test` and :meth:`anova` are the shared
    ones of every result, on the link scale; :meth:`marginal_means`,
    :meth:`predicted_probabilities` and :meth:`probability_differences` are this
    model's response-scale extras.

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

    _MODEL = "GEE"
    _RATIO_COLUMNS = _RATIO_COLUMNS

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
    iterations: int
    groups: str
    time: str | None
    _family: Family = field(repr=False)

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
        time: str | None = None,
        subject: str | None = None,
    ) -> GEEResult:
        names = list(frame.column_names)
        chosen = covariances[vcov_type]
        inference = Inference(beta=fit.beta, beta_vcov=chosen, df_method="fixed",
                              residual_df=df, conf_level=conf_level)
        table = shared.coefficient_table(inference, names, _RATIO_COLUMNS.get(family.link))
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
            **shared.frame_counts(frame, len(frame.subject_labels)),
            converged=bool(fit.converged),
            iterations=int(fit.iterations),
            groups=subject if subject is not None else groups,
            time=time,
            _frame=frame,
            _family=family,
            _inference=inference,
        )

    n_clusters = shared.deprecated_alias("n_clusters", "n_subjects")

    @property
    def subject(self) -> str:
        """The subject (cluster) column (same as :attr:`groups`)."""
        return self.groups

    def _header(self) -> str:
        return (f"GEE ({self.family}, {self.link} link), working correlation "
                f"'{self.correlation}', {self.vcov_type} covariance")

    # ----------------------------------------------------------- predictions
    def _cells(self, specs, by, weights, method):
        return self._grid().lsmean_matrix(as_list(by) + as_list(specs), weights,
                                          where=f"GEEResult.{method}")

    def marginal_means(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        weights: str = "equal",
        *,
        conf_level: float | None = None,
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
        conf_level : float, optional
            Level of the intervals (default: the fit's :attr:`conf_level`).

        Returns
        -------
        pandas.DataFrame
            ``by..., specs..., mean, se, ci_low, ci_high``: SE by the delta method; the
            interval is computed on the link scale and transformed back (so a
            probability's interval stays inside (0, 1)).
        """
        level = self._level(conf_level, "marginal_means")
        cells, matrix = self._cells(specs, by, weights, "marginal_means")
        eta = matrix @ self._inference.beta
        eta_se = np.sqrt(np.einsum("ia,ab,ib->i", matrix, self._inference.beta_vcov, matrix))
        quantile = critical_value(self.df, level)
        mean = self._family.mean(eta)
        out = cells.reset_index(drop=True)
        out["mean"] = mean
        out["se"] = eta_se * np.abs(self._family.mean_derivative(eta))
        out["ci_low"] = self._family.mean(eta - quantile * eta_se)
        out["ci_high"] = self._family.mean(eta + quantile * eta_se)
        return out

    def predicted_probabilities(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        weights: str = "equal",
        *,
        conf_level: float | None = None,
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
        means = self.marginal_means(specs, by, weights, conf_level=conf_level)
        return means.rename(columns={"mean": "probability"})

    def probability_differences(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        method: str = "revpairwise",
        reference=None,
        weights: str = "equal",
        *,
        conf_level: float | None = None,
    ) -> pd.DataFrame:
        """Differences of marginal probabilities (risk differences), e.g. between arms.

        Parameters
        ----------
        specs, by, method, reference, weights, conf_level
            As in :meth:`contrast`.

        Returns
        -------
        pandas.DataFrame
            ``by..., contrast, estimate, se, df, statistic, p_value, ci_low, ci_high``
            on the probability scale: Wald tests and intervals with the delta-method
            SE, as ``pairs(regrid(emmeans(fit, ~ arm | visit)), reverse = TRUE)``.
        """
        self._require_binomial("probability_differences")
        level = self._level(conf_level, "probability_differences")
        pairs = self._grid().contrasts(specs, by, method, reference, weights,
                                       where="GEEResult.probability_differences")
        eta = pairs.means @ self._inference.beta
        probability = self._family.mean(eta)
        gradient = self._family.mean_derivative(eta)[:, None] * pairs.means
        gradients = gradient[pairs.first] - gradient[pairs.second]
        vcov = self._inference.beta_vcov
        se = np.sqrt(np.einsum("ia,ab,ib->i", gradients, vcov, gradients))
        estimate = probability[pairs.first] - probability[pairs.second]
        return pairs.label(wald_table(estimate, se, self.df, level))

    def predict(self, newdata: pd.DataFrame | None = None) -> pd.Series:
        """Marginal means ``g^-1(x' beta)`` (probabilities for the binomial family).

        Fitted values of the analysed rows when ``newdata`` is None; rows of
        ``newdata`` with a missing covariate get NaN.
        """
        frame = self._frame
        if newdata is None:
            eta = frame.x @ self._inference.beta
            return pd.Series(self._family.mean(eta), index=frame.data.index, name="predicted")
        values = self._family.mean(self._new_linear_part(newdata))
        return pd.Series(values, index=newdata.index, name="predicted")

    def _summary_details(self) -> list[str]:
        reference = "normal (z)" if np.isinf(self.df) else f"t with {self.df:g} df"
        parameters = ", ".join(
            f"{p} = {e:.4f}" for p, e in self.correlation_parameters.itertuples(index=False)
        )
        return [
            f"correlation parameters: {parameters or 'none'}; scale: {self.scale:.4f}",
            f"covariance: {self.vcov_type}; reference distribution: {reference}",
        ]

    def _how_fitted(self) -> str:
        return f"{self.iterations} iterations"

    def _require_binomial(self, what: str) -> None:
        if self.family != "binomial":
            raise DataValidationError(
                f"GEEResult.{what} needs a binomial fit; this one is {self.family}: "
                "use marginal_means."
            )
