"""The immutable result of :func:`ketex.lmm`: estimates, variance components, BLUPs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import patsy

from ketex.errors import DataValidationError
from ketex.models import _result_api as shared
from ketex.models._inference import readonly as _readonly
from ketex.models._result_api import LikelihoodResult

if TYPE_CHECKING:
    from ketex.models._grouped_frame import GroupedFrame

__all__ = ["LMMResult"]


@dataclass(frozen=True, repr=False)
class LMMResult(LikelihoodResult):
    """A fitted linear mixed model (immutable); the shape of :class:`ketex.MMRMResult`.

    Attributes
    ----------
    coef : pandas.DataFrame
        ``term, estimate, se, df, statistic, p_value, ci_low, ci_high``: t tests with the
        fit's df method (Satterthwaite by default, as lmerTest).
    vcov : pandas.DataFrame
        Covariance of the fixed effects, ``sigma^2 (X' V^-1 X)^-1``.
    variance_components : pandas.DataFrame
        ``group, term, estimate``, as ``broom.mixed::tidy(fit, effects = "ran_pars")``:
        ``sd__<effect>`` per random effect, ``cor__<effect1>.<effect2>`` per pair, and
        ``sd__Observation`` (group ``Residual``).
    random_effects_covariance : pandas.DataFrame
        Covariance of the random effects (lme4's ``VarCorr``).
    residual_sd : float
    random_effects : pandas.DataFrame
        ``group, term, estimate, se``: each group's BLUP (lme4's ``ranef``) and its
        conditional SD (``condVar``; the fixed effects taken as known).
    loglik, aic, bic : float
        As lme4: ``aic = -2 loglik + 2 d``, ``bic = -2 loglik + d log(n_obs)``, ``d`` the
        fixed effects, variance parameters and residual SD (REML included).
    n_obs, n_subjects, n_missing_outcome, n_missing_covariates : int
        ``n_subjects``: the groups of the random effects (``n_groups`` is its
        deprecated alias).
    converged, singular : bool
    formula : str
    conf_level : float
        Default level of every interval; each method takes ``conf_level=`` too.
    optimiser : str
    messages : tuple of str
    method, df_method : str
    theta : numpy.ndarray
        The relative Cholesky factor's entries (lme4's ``getME(fit, "theta")``).
    varpar_vcov : numpy.ndarray
        Asymptotic covariance of ``(theta, sigma)`` (free parameters), as lmerTest.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ketex.models.lmm import lmm
    >>> rng = np.random.default_rng(4)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(40), 4), "time": np.tile([0.0, 2, 4, 8], 40),
    ...                   "arm": np.repeat(np.tile(["PBO", "KET"], 20), 4)})
    >>> d["y"] = (np.repeat(rng.normal(0, 3, 40), 4) - 0.5 * d["time"] * (d["arm"] == "KET")
    ...           + rng.normal(size=160))
    >>> fit = lmm(d, "y ~ arm * time", subject="id", re_formula="1")
    >>> fit.lsmeans("arm")[["arm", "estimate"]].round(2).values.tolist()
    [['KET', -1.55], ['PBO', -0.73]]
    >>> fit.random_effects.columns.tolist()
    ['group', 'term', 'estimate', 'se']
    """

    _MODEL = "LMM"

    variance_components: pd.DataFrame
    random_effects_covariance: pd.DataFrame
    residual_sd: float
    random_effects: pd.DataFrame
    singular: bool
    method: str
    df_method: str
    theta: np.ndarray
    varpar_vcov: np.ndarray
    _effects: np.ndarray = field(repr=False)  # (m, q) BLUPs
    if TYPE_CHECKING:  # narrows ModelResult._frame (type only: no field change)
        _frame: GroupedFrame

    @classmethod
    def build(cls, *, frame, inference, theta, sigma, lam, effects, conditional,
              minus_two_loglik, converged, singular, optimiser, messages, method,
              varpar_vcov) -> LMMResult:
        names = list(frame.column_names)
        table = shared.coefficient_table(inference, names)
        terms = list(frame.z_names)
        covariance = sigma**2 * lam @ lam.T
        sds = np.sqrt(np.diag(covariance))
        rows = [(frame.groups, f"sd__{t}", s) for t, s in zip(terms, sds, strict=True)]
        for a in range(len(terms)):
            for b in range(a + 1, len(terms)):
                denominator = sds[a] * sds[b]
                value = covariance[a, b] / denominator if denominator > 0 else np.nan
                rows.append((frame.groups, f"cor__{terms[a]}.{terms[b]}", value))
        rows.append(("Residual", "sd__Observation", sigma))
        components = pd.DataFrame(rows, columns=["group", "term", "estimate"])
        m, q = effects.shape
        blups = pd.DataFrame({
            "group": np.repeat(np.asarray(frame.group_labels, dtype=object), q),
            "term": np.tile(terms, m),
            "estimate": effects.ravel(),
            "se": np.sqrt(np.diagonal(conditional, axis1=1, axis2=2)).ravel(),
        })
        n_obs, k = frame.x.shape
        n_par = k + theta.size + 1
        return cls(
            coef=table,
            vcov=pd.DataFrame(_readonly(inference.beta_vcov), index=names, columns=names),
            variance_components=components,
            random_effects_covariance=pd.DataFrame(_readonly(covariance), index=terms,
                                                   columns=terms),
            residual_sd=float(sigma),
            random_effects=blups,
            **shared.likelihood_fields(minus_two_loglik, n_par, n_obs, converged, optimiser,
                                       messages),
            **shared.frame_counts(frame, frame.n_groups),
            singular=bool(singular),
            method=method,
            df_method=inference.df_method,
            theta=_readonly(theta),
            varpar_vcov=_readonly(varpar_vcov),
            _frame=frame,
            _inference=inference,
            _effects=_readonly(effects),
        )

    n_groups = shared.deprecated_alias("n_groups", "n_subjects")

    def _header(self) -> str:
        return (f"LMM ({self.method.upper()}), random effects {list(self._frame.z_names)} "
                f"per {self._frame.groups!r}, df {self.df_method}")

    # ----------------------------------------------------------- predictions
    def predict(self, newdata: pd.DataFrame | None = None, *,
                kind: str = "conditional") -> pd.Series:
        """Fitted values or predictions for ``newdata``.

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            None: the analysed rows (sorted by group).
        kind : {"conditional", "population"}
            ``X beta + Z b`` with each group's BLUP (a group not in the fit gets 0, as
            lme4's ``allow.new.levels = TRUE``) or ``X beta`` (``re.form = NA``).

        Returns
        -------
        pandas.Series
            Named ``predicted``; NaN where a covariate is missing.
        """
        if kind not in ("conditional", "population"):
            raise DataValidationError(
                f"LMMResult.predict: kind must be 'conditional' or 'population', got {kind!r}."
            )
        frame = self._frame
        beta = self._inference.beta
        if newdata is None:
            values = frame.x @ beta
            if kind == "conditional":
                values = values + np.sum(frame.z * self._effects[frame.group_codes], axis=1)
            return pd.Series(values, index=frame.data.index, name="predicted")
        rows = newdata.reset_index(drop=True)
        values = self._new_linear_part(newdata)
        if kind == "conditional":
            if frame.groups not in rows.columns:
                raise DataValidationError(
                    f"LMMResult.predict: kind='conditional' needs the groups column "
                    f"{frame.groups!r} in newdata (or use kind='population')."
                )
            (z,) = patsy.build_design_matrices([frame.z_design_info], rows, NA_action="drop",
                                               return_type="dataframe")
            codes = frame.group_labels.get_indexer(rows.loc[z.index, frame.groups])
            effects = np.where(codes[:, None] >= 0, self._effects[np.maximum(codes, 0)], 0.0)
            shift = np.full(len(rows), np.nan)
            shift[z.index.to_numpy()] = np.sum(z.to_numpy(dtype=float) * effects, axis=1)
            values = values + shift
        return pd.Series(values, index=newdata.index, name="predicted")

    def residuals(self, kind: str = "conditional") -> pd.Series:
        """``y`` minus :meth:`predict` of the analysed rows (sorted by group)."""
        fitted = self.predict(kind=kind)
        return pd.Series(self._frame.y - fitted.to_numpy(), index=fitted.index, name="residual")

    def _summary_title(self) -> str:
        return (f"Linear mixed model ({self.method.upper()}, df: {self.df_method}), random "
                f"effects {list(self._frame.z_names)} per {self._frame.groups!r}")

    def _summary_details(self) -> list[str]:
        boundary = "  [boundary (singular) fit]" if self.singular else ""
        return [f"-2 log likelihood: {-2 * self.loglik:.4f}  AIC: {self.aic:.4f}  "
                f"BIC: {self.bic:.4f}" + boundary]

    def _summary_tables(self) -> list[str]:
        return [self.variance_components.to_string(index=False), ""]
