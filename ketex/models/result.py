"""The immutable result of :func:`ketex.models.mmrm.mmrm` and its inference methods."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.models import _result_api as shared
from ketex.models._inference import readonly as _readonly
from ketex.models._result_api import LikelihoodResult
from ketex.models.covariance import CovarianceStructure

__all__ = ["MMRMResult"]


@dataclass(frozen=True, repr=False)
class MMRMResult(LikelihoodResult):
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
    formula : str
    conf_level : float
        Default level of every interval (``MMRMControl``'s level); each method takes
        ``conf_level=`` too.
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
    >>> fit  # doctest: +ELLIPSIS
    <MMRMResult: MMRM (REML), covariance 'us', df satterthwaite
     formula: y ~ C(arm, Treatment('PBO')) * visit
     n_obs=80, n_subjects=40, converged=True>
    """

    _MODEL = "MMRM"


    covariance_matrix: pd.DataFrame | dict
    covariance: str
    method: str
    df_method: str
    theta: np.ndarray
    theta_vcov: np.ndarray
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
        table = shared.coefficient_table(inference, names)
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
            **shared.likelihood_fields(minus_two_loglik, n_par, n_subjects, converged, optimiser,
                                messages),
            **shared.frame_counts(frame, n_subjects),
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

    # ----------------------------------------------------------- predictions
    def predict(self, newdata: pd.DataFrame | None = None) -> pd.Series:
        """Population-level predictions ``X beta`` (fitted values when ``newdata`` is None).

        Rows of ``newdata`` with a missing covariate get NaN.
        """
        if newdata is None:
            fitted = self._frame.x @ self._inference.beta
            return pd.Series(fitted, index=self._frame.data.index, name="predicted")
        return pd.Series(self._new_linear_part(newdata), index=newdata.index, name="predicted")

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
            raise DataValidationError(
                "MMRMResult.residuals: type must be 'response', 'pearson' or 'normalized'."
            )
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

    def _header(self) -> str:
        return f"MMRM ({self.method.upper()}), covariance '{self.covariance}', df {self.df_method}"

    def _summary_details(self) -> list[str]:
        return [f"-2 log likelihood: {-2 * self.loglik:.4f}  AIC: {self.aic:.4f}  "
                f"BIC: {self.bic:.4f}"]
