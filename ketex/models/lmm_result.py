"""The immutable result of :func:`ketex.lmm`: estimates, variance components, BLUPs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy

from ketex.models._grouped_frame import GroupedFrame
from ketex.models._inference import Inference
from ketex.models.lsmeans import ReferenceGrid
from ketex.models.result import MMRMResult

__all__ = ["LMMResult"]


def _readonly(array) -> np.ndarray:
    array = np.array(array, dtype=float, copy=True)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class LMMResult:
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
    n_obs, n_groups, n_missing_outcome, n_missing_covariates : int
    converged, singular : bool
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

    coef: pd.DataFrame
    vcov: pd.DataFrame
    variance_components: pd.DataFrame
    random_effects_covariance: pd.DataFrame
    residual_sd: float
    random_effects: pd.DataFrame
    loglik: float
    aic: float
    bic: float
    n_obs: int
    n_groups: int
    n_missing_outcome: int
    n_missing_covariates: int
    converged: bool
    singular: bool
    optimiser: str
    messages: tuple[str, ...]
    method: str
    df_method: str
    theta: np.ndarray
    varpar_vcov: np.ndarray
    _frame: GroupedFrame = field(repr=False)
    _inference: Inference = field(repr=False)
    _effects: np.ndarray = field(repr=False)  # (m, q) BLUPs

    @classmethod
    def build(cls, *, frame, inference, theta, sigma, lam, effects, conditional,
              minus_two_loglik, converged, singular, optimiser, messages, method,
              varpar_vcov) -> LMMResult:
        names = list(frame.column_names)
        table = inference.t_tests(np.eye(len(names)))
        table.insert(0, "term", names)
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
            loglik=-0.5 * float(minus_two_loglik),
            aic=float(minus_two_loglik + 2 * n_par),
            bic=float(minus_two_loglik + n_par * np.log(n_obs)),
            n_obs=int(n_obs),
            n_groups=frame.n_groups,
            n_missing_outcome=int(frame.n_missing_outcome),
            n_missing_covariates=int(frame.n_missing_covariates),
            converged=bool(converged),
            singular=bool(singular),
            optimiser=optimiser,
            messages=tuple(messages),
            method=method,
            df_method=inference.df_method,
            theta=_readonly(theta),
            varpar_vcov=_readonly(varpar_vcov),
            _frame=frame,
            _inference=inference,
            _effects=_readonly(effects),
        )

    # the fixed-effects inference is the MMRM's: same Inference object, same grid
    test = MMRMResult.test
    lsmeans = MMRMResult.lsmeans
    contrast = MMRMResult.contrast
    anova = MMRMResult.anova

    def _grid(self) -> ReferenceGrid:
        return ReferenceGrid.from_frame(self._frame)

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
            raise ValueError(f"kind must be 'conditional' or 'population', got {kind!r}.")
        frame = self._frame
        beta = self._inference.beta
        if newdata is None:
            values = frame.x @ beta
            if kind == "conditional":
                values = values + np.sum(frame.z * self._effects[frame.group_codes], axis=1)
            return pd.Series(values, index=frame.data.index, name="predicted")
        rows = newdata.reset_index(drop=True)
        (design,) = patsy.build_design_matrices([frame.design_info], rows, NA_action="drop",
                                                return_type="dataframe")
        values = np.full(len(rows), np.nan)
        values[design.index.to_numpy()] = design.to_numpy(dtype=float) @ beta
        if kind == "conditional":
            if frame.groups not in rows.columns:
                raise ValueError(f"kind='conditional' needs the groups column {frame.groups!r} "
                                 "in newdata (or use kind='population').")
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

    def summary(self) -> str:
        """A short text summary."""
        components = self.variance_components.to_string(index=False)
        lines = [
            f"Linear mixed model ({self.method.upper()}, df: {self.df_method}), random "
            f"effects {list(self._frame.z_names)} per {self._frame.groups!r}",
            f"formula: {self._frame.formula}",
            f"observations: {self.n_obs} in {self.n_groups} groups "
            f"({self.n_missing_outcome} missing outcomes dropped)",
            f"-2 log likelihood: {-2 * self.loglik:.4f}  AIC: {self.aic:.4f}  "
            f"BIC: {self.bic:.4f}" + ("  [boundary (singular) fit]" if self.singular else ""),
            f"converged: {self.converged} ({self.optimiser})",
            "",
            components,
            "",
            self.coef.to_string(index=False),
        ]
        return "\n".join(lines)
