"""The immutable result of :func:`ketex.glmm`: estimates, random effects, predictions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from ketex.models._binomial import Link
from ketex.models._glmm_likelihood import GLMMLikelihood
from ketex.models._grouped_frame import GroupedFrame
from ketex.models._inference import Inference
from ketex.models.lsmeans import ReferenceGrid
from ketex.models.multiplicity import adjust_contrasts
from ketex.models.quadrature import gauss_hermite
from ketex.models.result import _as_list, _pairs

__all__ = ["GLMMResult"]

#: nodes of the (non-adaptive) rule that integrates predictions over the random intercept
_MARGINAL_NODES = 80
_RATIO_COLUMNS = {
    "logit": ("odds_ratio", "or_ci_low", "or_ci_high"),
    "cloglog": ("hazard_ratio", "hr_ci_low", "hr_ci_high"),
}
_KINDS = ("conditional", "typical", "marginal")


def _readonly(array) -> np.ndarray:
    array = np.array(array, dtype=float, copy=True)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class GLMMResult:
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
    n_obs, n_groups, n_missing_outcome, n_missing_covariates : int
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

    coef: pd.DataFrame
    vcov: pd.DataFrame
    variance_components: pd.DataFrame
    random_effects: pd.DataFrame
    random_effect_sd: float
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
    nagq: int
    link: str
    family: str
    theta: np.ndarray
    theta_vcov: np.ndarray
    _frame: GroupedFrame = field(repr=False)
    _inference: Inference = field(repr=False)
    _link: Link = field(repr=False)
    _modes: np.ndarray = field(repr=False)  # b_i per group code

    @classmethod
    def build(cls, *, frame: GroupedFrame, lik: GLMMLikelihood, link: Link, theta, theta_vcov,
              deviance, converged, optimiser, messages, singular,
              confidence_level) -> GLMMResult:
        theta = np.asarray(theta, dtype=float)
        beta = theta[:-1]
        sigma = 0.0 if singular else float(np.exp(theta[-1]))
        names = list(frame.column_names)
        k = len(names)
        beta_vcov = np.asarray(theta_vcov)[:k, :k]
        inference = Inference(
            beta=beta, beta_vcov=beta_vcov, model_vcov=beta_vcov, df_method="residual",
            theta_vcov=None, jacobian=None, p_matrices=None, residual_df=np.inf,
            coefficient_df=np.full(k, np.inf), confidence_level=confidence_level,
        )
        table = inference.t_tests(np.eye(k))
        table.insert(0, "term", names)
        if link.name in _RATIO_COLUMNS:
            _add_ratios(table, link.name)
        quantile = stats.norm.ppf(0.5 + confidence_level / 2.0)
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
        n_obs = int(frame.x.shape[0])
        n_par = k + 1
        return cls(
            coef=table,
            vcov=pd.DataFrame(_readonly(beta_vcov), index=names, columns=names),
            variance_components=components,
            random_effects=random_effects,
            random_effect_sd=sigma,
            loglik=-0.5 * float(deviance),
            aic=float(deviance + 2 * n_par),
            bic=float(deviance + n_par * np.log(n_obs)),
            n_obs=n_obs,
            n_groups=frame.n_groups,
            n_missing_outcome=int(frame.n_missing_outcome),
            n_missing_covariates=int(frame.n_missing_covariates),
            converged=bool(converged),
            singular=bool(singular),
            optimiser=optimiser,
            messages=tuple(messages),
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

    # ---------------------------------------------------------------- tests
    def test(self, contrast, labels=None) -> pd.DataFrame:
        """Wald z tests of linear combinations ``contrast @ beta`` (link scale).

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

    def anova(self) -> pd.DataFrame:
        """Wald chi-square tests of each model term (Type III, as ``car::Anova(type = 3)``).

        Returns
        -------
        pandas.DataFrame
            ``term, num_df, statistic, p_value`` (``statistic`` is the Wald chi-square).
        """
        rows = []
        beta, vcov = self._inference.beta, self._inference.beta_vcov
        for term, matrix in ReferenceGrid.from_frame(self._frame).type3_matrices().items():
            estimate = matrix @ beta
            covariance = matrix @ vcov @ matrix.T
            values, vectors = np.linalg.eigh(0.5 * (covariance + covariance.T))
            keep = values > np.sqrt(np.finfo(float).eps) * max(values.max(), 0.0)
            rotated = vectors[:, keep].T @ estimate
            chi_square = float(np.sum(rotated**2 / values[keep]))
            rank = int(keep.sum())
            rows.append({"term": term, "num_df": float(rank), "statistic": chi_square,
                         "p_value": float(stats.chi2.sf(chi_square, rank))})
        return pd.DataFrame(rows, columns=["term", "num_df", "statistic", "p_value"])

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
            raise ValueError(f"kind must be one of {list(_KINDS)}, got {kind!r}.")
        if scale not in ("response", "link"):
            raise ValueError(f"scale must be 'response' or 'link', got {scale!r}.")
        if kind == "marginal" and scale == "link":
            raise ValueError("The marginal prediction is a probability: use scale='response'.")
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
        (design,) = patsy.build_design_matrices(
            [frame.design_info], rows, NA_action="drop", return_type="dataframe"
        )
        kept = design.index.to_numpy()
        eta = np.full(len(rows), np.nan)
        eta[kept] = design.to_numpy(dtype=float) @ self._inference.beta
        if frame.offset_column is not None:
            if frame.offset_column not in rows.columns:
                raise ValueError(f"The model has an offset: newdata needs its column "
                                 f"{frame.offset_column!r}.")
            eta = eta + pd.to_numeric(rows[frame.offset_column]).to_numpy(dtype=float)
        effects = np.zeros(len(rows))
        if kind == "conditional":
            if frame.groups not in rows.columns:
                raise ValueError(f"kind='conditional' needs the groups column {frame.groups!r} "
                                 "in newdata (or use kind='typical' or 'marginal').")
            codes = frame.group_labels.get_indexer(rows[frame.groups])
            effects = np.where(codes >= 0, self._modes[np.maximum(codes, 0)], 0.0)
        return eta, effects, np.isfinite(eta)

    def predicted_probabilities(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        *,
        kind: str = "marginal",
        weights: str = "equal",
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

        Returns
        -------
        pandas.DataFrame
            ``by..., specs..., probability, se, ci_low, ci_high``: SE by the delta method
            over ``(beta, log sigma)``; the CI is Wald on the link scale, transformed back
            (so inside (0, 1); for ``typical`` it is emmeans's interval).
        """
        if kind not in ("marginal", "typical"):
            raise ValueError(f"kind must be 'marginal' or 'typical', got {kind!r}.")
        specs_list, by_list = _as_list(specs), _as_list(by)
        cells, matrix = ReferenceGrid.from_frame(self._frame).lsmean_matrix(
            by_list + specs_list, weights
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
        quantile = stats.norm.ppf(0.5 + self._inference.confidence_level / 2.0)
        centre = self._link.link(probability)
        half = quantile * se * np.abs(self._link.link_derivative(probability))
        out = cells.reset_index(drop=True).copy()
        out["probability"] = probability
        out["se"] = se
        out["ci_low"] = self._link.inverse(centre - half)
        out["ci_high"] = self._link.inverse(centre + half)
        return out

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
            As in :meth:`predicted_probabilities`.
        method : {"revpairwise", "pairwise", "trt_vs_ctrl"}
            As :meth:`ketex.MMRMResult.contrast`.
        reference : optional
            Control level for ``trt_vs_ctrl``.
        adjust : {None, "dunnett", "holm", "bonferroni", "none"}
            Multiplicity adjustment within each ``by`` level, as
            :meth:`ketex.MMRMResult.contrast` (on the link scale); adds ``adjust,
            p_value_adjusted, ci_low_adjusted, ci_high_adjusted``.

        Returns
        -------
        pandas.DataFrame
            ``by..., contrast, estimate, se, df, statistic, p_value, ci_low, ci_high``
            then, for the logit (cloglog) link, ``odds_ratio, or_ci_low, or_ci_high``
            (``hazard_ratio, hr_ci_low, hr_ci_high``): conditional on the random
            intercept (subject-specific), as emmeans on a glmer fit.
        """
        specs_list, by_list = _as_list(specs), _as_list(by)
        cells, matrix = ReferenceGrid.from_frame(self._frame).lsmean_matrix(
            by_list + specs_list, weights
        )
        labels = cells[specs_list].astype(str).agg(" ".join, axis=1).to_numpy()
        keys = (cells[by_list].apply(tuple, axis=1) if by_list
                else pd.Series([()] * len(cells)))
        rows, names, by_rows = [], [], []
        for key in dict.fromkeys(keys):
            idx = np.flatnonzero((keys == key).to_numpy())
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
        if self.link in _RATIO_COLUMNS:
            _add_ratios(table, self.link)
        if adjust is None:
            return table
        return adjust_contrasts(table, matrix @ self._inference.beta_vcov @ matrix.T, by_rows,
                                adjust, self._inference.confidence_level)

    def summary(self) -> str:
        """A short text summary."""
        method = "Laplace" if self.nagq == 1 else f"adaptive Gauss-Hermite, {self.nagq} nodes"
        sd = self.variance_components.iloc[0]
        lines = [
            f"Binomial GLMM ({self.link} link), random intercept per {self._frame.groups!r}, "
            f"ML by {method}",
            f"formula: {self._frame.formula}",
            f"observations: {self.n_obs} in {self.n_groups} groups "
            f"({self.n_missing_outcome} missing outcomes dropped)",
            f"log likelihood: {self.loglik:.4f}  AIC: {self.aic:.4f}  BIC: {self.bic:.4f}",
            f"random-intercept SD: {sd['estimate']:.4f} (95% CI {sd['ci_low']:.4f} to "
            f"{sd['ci_high']:.4f})" + ("  [boundary fit: SD = 0]" if self.singular else ""),
            f"converged: {self.converged} ({self.optimiser})",
            "",
            self.coef.to_string(index=False),
        ]
        return "\n".join(lines)


def _add_ratios(table: pd.DataFrame, link: str) -> None:
    ratio, low, high = _RATIO_COLUMNS[link]
    with np.errstate(over="ignore"):
        table[ratio] = np.exp(table["estimate"].to_numpy())
        table[low] = np.exp(table["ci_low"].to_numpy())
        table[high] = np.exp(table["ci_high"].to_numpy())


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
