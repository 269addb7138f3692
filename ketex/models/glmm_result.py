"""The immutable result of :func:`ketex.glmm`: estimates, random effects, predictions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from ketex.errors import DataValidationError
from ketex.models import _result_api as shared
from ketex.models._binomial import Link
from ketex.models._glmm_likelihood import GLMMLikelihood
from ketex.models._grouped_frame import GroupedFrame
from ketex.models._inference import Inference
from ketex.models._inference import readonly as _readonly
from ketex.models._result_api import LikelihoodResult

if TYPE_CHECKING:
    from ketex.models._grouped_frame import GroupedFrame
from ketex.models.lsmeans import as_list
from ketex.models.quadrature import gauss_hermite

__all__ = ["GLMMResult"]

#: nodes of the (non-adaptive) rule that integrates predictions over the random intercept
_MARGINAL_NODES = 80
_RATIO_COLUMNS = {
    "logit": ("odds_ratio", "or_ci_low", "or_ci_high"),
    "cloglog": ("hazard_ratio", "hr_ci_low", "hr_ci_high"),
}
_KINDS = ("conditional", "typical", "marginal")


@dataclass(frozen=True, repr=False)
class GLMMResult(LikelihoodResult):
    """A fitted binomial GLMM with a random intercept (immutable).

    Attributes
    ----------
    coef : pandas.DataFrame
        ``term, estimate, se, df, statistic, p_value, ci_low, ci_high`` on the link
        scale (log-odds for the logit link), Wald z tests (``df`` is infinite); then
        ``odds_ratio, or_ci_low, or_ci_high`` (logit) or ``hazard_ratio, hr_ci_low,
        hr_ci_high`` (cloglog): the exponentiated estimate and CI.
    vcov : pandas.DataFrame
        Covariance of the fixed effects: the block of the inverse Hessian of the
        deviance over ``(beta, log sigma)``.
    variance_components : pandas.DataFrame
        ``group, term, estimate, se, ci_low, ci_high``: one row, term
        ``sd__Intercept``: the random-intercept SD, its SE (delta method) and Wald CI on
        the log scale (as :attr:`ketex.LMMResult.variance_components`, with SE and CI).
    random_effects : pandas.DataFrame
        ``group, term, estimate, se``: each group's conditional mode of ``b_i`` (lme4's
        ``ranef``; term ``Intercept``) and the SD of the normal approximation there
        (lme4's ``condVar``).
    random_effect_sd : float
    loglik, aic, bic : float
        Approximated log likelihood; ``aic = -2 loglik + 2 (p + 1)``, ``bic = -2 loglik
        + (p + 1) log(n_obs)`` as lme4.
    n_obs, n_subjects, n_missing_outcome, n_missing_covariates : int
        ``n_subjects``: the groups of the random intercept (``n_groups`` is its
        deprecated alias).
    converged, singular : bool
        ``singular``: the SD was estimated at 0 (the results are the fixed-effects fit).
    optimiser : str
    messages : tuple of str
    nagq : int
    link, family : str
    theta : numpy.ndarray
        ``(beta..., log sigma)``.
    theta_vcov : numpy.ndarray
        Its covariance (inverse Hessian of ``-log L``).
    formula : str
    conf_level : float
        Default level of every interval; each method takes ``conf_level=`` too.

    Notes
    -----
    :meth:`lsmeans`, :meth:`contrast`, :meth:`test` and :meth:`anova` are the shared
    ones of every result, on the link scale (Wald z tests, ``df`` infinite);
    :meth:`predicted_probabilities` is this model's response-scale extra
    (population-averaged or typical probabilities).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ketex.models.glmm import glmm
    >>> rng = np.random.default_rng(11)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(80), 3),
    ...                   "visit": np.tile(["W2", "W4", "W8"], 80),
    ...                   "arm": np.repeat(np.tile(["PBO", "KET"], 40), 3)})
    >>> eta = -0.5 + 1.0 * (d["arm"] == "KET") + np.repeat(rng.normal(0, 1.2, 80), 3)
    >>> d["response"] = (rng.random(240) < 1 / (1 + np.exp(-eta))).astype(int)
    >>> fit = glmm(d, "response ~ C(arm, Treatment('PBO')) + visit", subject="id")
    >>> fit.predicted_probabilities("arm", by="visit").columns.tolist()
    ['visit', 'arm', 'probability', 'se', 'ci_low', 'ci_high']
    >>> fit.contrast("arm", method="trt_vs_ctrl", reference="PBO")["contrast"].tolist()
    ['KET - PBO']
    """

    _MODEL = "GLMM"
    _RATIO_COLUMNS = _RATIO_COLUMNS

    variance_components: pd.DataFrame
    random_effects: pd.DataFrame
    random_effect_sd: float
    singular: bool
    nagq: int
    link: str
    family: str
    theta: np.ndarray
    theta_vcov: np.ndarray
    _link: Link = field(repr=False)
    _modes: np.ndarray = field(repr=False)  # b_i per group code
    if TYPE_CHECKING:  # narrows ModelResult._frame (type only: no field change)
        _frame: GroupedFrame

    @classmethod
    def build(cls, *, frame: GroupedFrame, lik: GLMMLikelihood, link: Link, theta, theta_vcov,
              deviance, converged, optimiser, messages, singular,
              conf_level=None, confidence_level=None) -> GLMMResult:
        conf_level = float(conf_level if conf_level is not None else confidence_level)
        theta = np.asarray(theta, dtype=float)
        beta = theta[:-1]
        sigma = 0.0 if singular else float(np.exp(theta[-1]))
        names = list(frame.column_names)
        k = len(names)
        beta_vcov = np.asarray(theta_vcov)[:k, :k]
        inference = Inference(beta=beta, beta_vcov=beta_vcov, df_method="normal",
                              conf_level=conf_level)
        table = shared.coefficient_table(inference, names, _RATIO_COLUMNS.get(link.name))
        quantile = stats.norm.ppf(0.5 + conf_level / 2.0)
        if singular:
            modes = np.zeros(frame.n_groups)
            conditional_sd = np.zeros(frame.n_groups)
            sd_se = low = high = np.nan
        else:
            solution = lik.modes(beta, sigma)
            modes = sigma * solution.modes
            conditional_sd = sigma / np.sqrt(solution.curvature)
            log_se = float(np.sqrt(theta_vcov[-1, -1]))
            sd_se = sigma * log_se
            low = float(np.exp(theta[-1] - quantile * log_se))
            high = float(np.exp(theta[-1] + quantile * log_se))
        components = pd.DataFrame({
            "group": [frame.groups], "term": ["sd__Intercept"], "estimate": [sigma],
            "se": [sd_se], "ci_low": [low], "ci_high": [high],
        })
        random_effects = pd.DataFrame({
            "group": np.asarray(frame.group_labels, dtype=object),
            "term": "Intercept",
            "estimate": modes,
            "se": conditional_sd,
        })
        counts = shared.frame_counts(frame, frame.n_groups)
        n_obs = counts["n_obs"]
        n_par = k + 1
        return cls(
            coef=table,
            vcov=pd.DataFrame(_readonly(beta_vcov), index=names, columns=names),
            variance_components=components,
            random_effects=random_effects,
            random_effect_sd=sigma,
            **shared.likelihood_fields(deviance, n_par, n_obs, converged, optimiser, messages),
            **counts,
            singular=bool(singular),
            nagq=int(lik.nagq),
            link=link.name,
            family="binomial",
            theta=_readonly(theta),
            theta_vcov=_readonly(theta_vcov),
            _frame=frame,
            _inference=inference,
            _link=link,
            _modes=_readonly(modes),
        )

    n_groups = shared.deprecated_alias("n_groups", "n_subjects")

    @property
    def df_method(self) -> str:
        """``"normal"``: Wald z tests (``df`` infinite), as lme4's ``glmer``."""
        return self._inference.df_method

    def _header(self) -> str:
        method = "Laplace" if self.nagq == 1 else f"adaptive Gauss-Hermite, {self.nagq} nodes"
        return (f"Binomial GLMM ({self.link} link), random intercept per "
                f"{self._frame.groups!r}, ML by {method}")

    # ----------------------------------------------------------- predictions
    def predict(self, newdata: pd.DataFrame | None = None, *, kind: str = "conditional",
                scale: str = "response") -> pd.Series:
        """Predictions for the analysed rows or for ``newdata``.

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            Covariates (and the groups column for ``kind="conditional"``, the offset
            column if the model has one). None: the analysed rows, in their order.
        kind : {"conditional", "typical", "marginal"}
            ``conditional``: with each group's conditional mode (a group not in the
            fit gets 0, as lme4's ``allow.new.levels = TRUE``); ``typical``: random
            intercept 0 (lme4's ``re.form = NA``); ``marginal``: averaged over the
            random-intercept distribution (population-averaged probability).
        scale : {"response", "link"}
            Probabilities or the linear predictor (``link`` is not available for
            ``marginal``).

        Returns
        -------
        pandas.Series
            Named ``predicted``; NaN for rows of ``newdata`` with a missing covariate.
        """
        if kind not in _KINDS:
            raise DataValidationError(
                f"GLMMResult.predict: kind must be one of {list(_KINDS)}, got {kind!r}."
            )
        if scale not in ("response", "link"):
            raise DataValidationError(
                f"GLMMResult.predict: scale must be 'response' or 'link', got {scale!r}."
            )
        if kind == "marginal" and scale == "link":
            raise DataValidationError(
                "GLMMResult.predict: the marginal prediction is a probability; "
                "use scale='response'."
            )
        frame = self._frame
        beta = self._inference.beta
        if newdata is None:
            eta = frame.x @ beta + frame.offset
            effects = self._modes[frame.group_codes]
            index = frame.data.index
            valid = np.ones(len(eta), dtype=bool)
        else:
            eta, effects, valid = self._new_linear_predictor(newdata, kind)
            index = newdata.index
        if kind == "conditional":
            eta = eta + effects
        if kind == "marginal":
            values = _marginal(eta, self.random_effect_sd, self._link)[0]
        elif scale == "response":
            values = self._link.inverse(eta)
        else:
            values = eta
        values = np.where(valid, values, np.nan)
        return pd.Series(values, index=index, name="predicted")

    def _new_linear_predictor(self, newdata: pd.DataFrame, kind: str):
        frame = self._frame
        rows = newdata.reset_index(drop=True)
        eta = self._new_linear_part(newdata)
        if frame.offset_column is not None:
            if frame.offset_column not in rows.columns:
                raise DataValidationError(
                    f"GLMMResult.predict: The model has an offset: newdata needs its column "
                    f"{frame.offset_column!r}."
                )
            eta = eta + pd.to_numeric(rows[frame.offset_column]).to_numpy(dtype=float)
        effects = np.zeros(len(rows))
        if kind == "conditional":
            if frame.groups not in rows.columns:
                raise DataValidationError(
                    f"GLMMResult.predict: kind='conditional' needs the groups column "
                    f"{frame.groups!r} in newdata (or use kind='typical' or 'marginal')."
                )
            codes = frame.group_labels.get_indexer(pd.Index(rows[frame.groups]))
            effects = np.where(codes >= 0, self._modes[np.maximum(codes, 0)], 0.0)
        return eta, effects, np.isfinite(eta)

    def predicted_probabilities(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        *,
        kind: str = "marginal",
        weights: str = "equal",
        conf_level: float | None = None,
    ) -> pd.DataFrame:
        """Predicted probabilities on a reference grid, e.g. by arm and visit.

        Parameters
        ----------
        specs : str or list of str
            Factor(s) whose level combinations get a probability (e.g. ``"arm"``).
        by : str or list of str, optional
            Factor(s) to condition on (e.g. ``"visit"``).
        kind : {"marginal", "typical"}
            ``marginal``: the population-averaged probability, ``int g^-1(eta + b)
            dN(b; 0, sigma^2)`` (by Gauss-Hermite quadrature); ``typical``: for a
            participant with random intercept 0, ``g^-1(eta)`` (emmeans
            ``type = "response"``). ``eta`` averages the linear predictor over the
            factors not named, covariates at their means (as
            :meth:`ketex.MMRMResult.lsmeans`); an offset is taken as 0 (with
            ``log_exposure``: a full interval).
        weights : {"equal", "proportional"}
            Averaging over the other factors.
        conf_level : float, optional
            Level of the intervals (default: the fit's :attr:`conf_level`).

        Returns
        -------
        pandas.DataFrame
            ``by..., specs..., probability, se, ci_low, ci_high``: SE by the delta method
            over ``(beta, log sigma)``; the CI is Wald on the link scale, transformed back
            (so inside (0, 1); for ``typical`` it is emmeans's interval).
        """
        if kind not in ("marginal", "typical"):
            raise DataValidationError(
                f"GLMMResult.predicted_probabilities: kind must be 'marginal' or 'typical', "
                f"got {kind!r}."
            )
        level = self._level(conf_level, "predicted_probabilities")
        cells, matrix = self._grid().lsmean_matrix(
            as_list(by) + as_list(specs), weights, where="GLMMResult.predicted_probabilities"
        )
        eta = matrix @ self._inference.beta
        if kind == "typical" or self.singular:
            probability = self._link.inverse(eta)
            gradient = self._link.inverse_derivative(eta)[:, None] * matrix
            variance = np.einsum("ia,ab,ib->i", gradient, self._inference.beta_vcov, gradient)
        else:
            probability, slope, sigma_slope = _marginal(eta, self.random_effect_sd, self._link)
            gradient = np.hstack([slope[:, None] * matrix, sigma_slope[:, None]])
            variance = np.einsum("ia,ab,ib->i", gradient, self.theta_vcov, gradient)
        se = np.sqrt(variance)
        quantile = stats.norm.ppf(0.5 + level / 2.0)
        centre = self._link.link(probability)
        half = quantile * se * np.abs(self._link.link_derivative(probability))
        out = cells.reset_index(drop=True).copy()
        out["probability"] = probability
        out["se"] = se
        out["ci_low"] = self._link.inverse(centre - half)
        out["ci_high"] = self._link.inverse(centre + half)
        return out

    def _summary_details(self) -> list[str]:
        sd = self.variance_components.iloc[0]
        boundary = "  [boundary fit: SD = 0]" if self.singular else ""
        return [
            f"log likelihood: {self.loglik:.4f}  AIC: {self.aic:.4f}  BIC: {self.bic:.4f}",
            f"random-intercept SD: {sd['estimate']:.4f} ({self.conf_level:.0%} CI "
            f"{sd['ci_low']:.4f} to {sd['ci_high']:.4f})" + boundary,
        ]

def _marginal(eta: np.ndarray, sigma: float, link: Link):
    """``int g^-1(eta + sigma z) phi(z) dz`` and its derivatives in eta and log sigma."""
    eta = np.asarray(eta, dtype=float)
    if sigma == 0:
        slope = link.inverse_derivative(eta)
        return link.inverse(eta), slope, np.zeros_like(eta)
    z, w = gauss_hermite(_MARGINAL_NODES)
    shifted = eta[..., None] + sigma * z
    probability = link.inverse(shifted) @ w
    density = link.inverse_derivative(shifted)
    return probability, density @ w, (density * (sigma * z)) @ w
