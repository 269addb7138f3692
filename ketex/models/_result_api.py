"""The API every model result shares: tests, LS-means, contrasts, Type III, repr.

:class:`ModelResult` is mixed into :class:`~ketex.MMRMResult`, :class:`~ketex.LMMResult`,
:class:`~ketex.GLMMResult` and :class:`~ketex.GEEResult`. It needs four things of the
result: ``_inference`` (an :class:`ketex.models._inference.Inference`), ``_frame`` (the
model frame the :class:`~ketex.models.lsmeans.ReferenceGrid` is built from), ``coef``
and the fields named in :meth:`ModelResult._header`. Everything here is on the link
scale (the identity for MMRM and LMM); model-specific extras (odds ratios, predicted
probabilities, BLUPs, working correlations) stay in each result's module.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import patsy

from ketex.errors import DataValidationError
from ketex.models._inference import F_COLUMNS, Inference, check_conf_level
from ketex.models.lsmeans import ReferenceGrid, as_list
from ketex.models.multiplicity import adjust_contrasts

if TYPE_CHECKING:
    from ketex.models._design import ModelFrame

__all__ = ["LikelihoodResult", "ModelResult", "coefficient_table", "deprecated_alias",
           "frame_counts", "likelihood_fields"]


def frame_counts(frame, n_subjects: int) -> dict:
    """``n_obs, n_subjects, n_missing_outcome, n_missing_covariates`` of a model frame."""
    return {
        "n_obs": int(frame.x.shape[0]),
        "n_subjects": int(n_subjects),
        "n_missing_outcome": int(frame.n_missing_outcome),
        "n_missing_covariates": int(frame.n_missing_covariates),
    }


def coefficient_table(inference: Inference, names, ratios: tuple | None = None) -> pd.DataFrame:
    """``term`` then the tests of every coefficient (and exponentiated ratio columns)."""
    table = inference.t_tests(np.eye(len(names)))
    table.insert(0, "term", list(names))
    return add_ratios(table, ratios)


def add_ratios(table: pd.DataFrame, ratios: tuple | None) -> pd.DataFrame:
    """``exp`` of estimate and interval as ``ratios = (name, low, high)`` columns."""
    if ratios is None:
        return table
    ratio, low, high = ratios
    with np.errstate(over="ignore"):
        table[ratio] = np.exp(table["estimate"].to_numpy())
        table[low] = np.exp(table["ci_low"].to_numpy())
        table[high] = np.exp(table["ci_high"].to_numpy())
    return table


def deprecated_alias(old: str, new: str):
    """A read-only property ``old`` returning ``new`` with a FutureWarning."""

    def getter(self):
        warnings.warn(
            f"{type(self).__name__}.{old} is deprecated and will be removed in the next "
            f"release; use .{new} (the same number).",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(self, new)

    getter.__doc__ = f"Deprecated alias of :attr:`{new}`."
    return property(getter)


@dataclass(frozen=True, repr=False)
class ModelResult:
    """The fields and inference methods every model result shares (frozen)."""

    #: link name -> (ratio, low, high) columns added to ``coef`` and ``contrast``
    _RATIO_COLUMNS: ClassVar[dict] = {}
    #: what :meth:`__repr__` calls the model
    _MODEL: ClassVar[str] = "model"

    coef: pd.DataFrame
    vcov: pd.DataFrame
    n_obs: int
    n_subjects: int
    n_missing_outcome: int
    n_missing_covariates: int
    converged: bool
    _frame: ModelFrame = field(repr=False)
    _inference: Inference = field(repr=False)

    # ------------------------------------------------------------- properties
    @property
    def conf_level(self) -> float:
        """Default confidence level of intervals (the fit's ``conf_level``)."""
        return self._inference.conf_level

    @property
    def formula(self) -> str:
        """The model formula as given."""
        return str(self._frame.formula)

    def _ratios(self) -> tuple | None:
        return self._RATIO_COLUMNS.get(getattr(self, "link", None))

    def _level(self, conf_level: float | None, method: str) -> float:
        if conf_level is None:
            return self.conf_level
        return check_conf_level(conf_level, f"{type(self).__name__}.{method}")

    def _grid(self) -> ReferenceGrid:
        return ReferenceGrid.from_frame(self._frame)

    # ------------------------------------------------------------------ tests
    def _contrast_matrix(self, contrast, method: str = "test") -> np.ndarray:
        where = f"{type(self).__name__}.{method}"
        try:
            matrix = np.atleast_2d(np.asarray(contrast, dtype=float))
        except (TypeError, ValueError) as error:
            raise DataValidationError(
                f"{where}: contrast must be numbers, a (q, {len(self.coef)}) array; "
                f"got {contrast!r} ({error})."
            ) from None
        k = len(self.coef)
        if matrix.ndim != 2 or matrix.shape[1] != k:
            raise DataValidationError(
                f"{where}: contrast needs {k} columns (one per term of coef: "
                f"{list(self.coef['term'])}), got shape {matrix.shape}."
            )
        if not np.all(np.isfinite(matrix)):
            raise DataValidationError(
                f"{where}: contrast needs {k} columns of finite numbers; it has NaN or "
                "infinite entries."
            )
        return matrix

    def test(self, contrast, labels=None, *, conf_level: float | None = None) -> pd.DataFrame:
        """Tests of linear combinations ``contrast @ beta`` (link scale).

        t tests with the fit's df method (z tests where ``df`` is infinite).

        Parameters
        ----------
        contrast : array-like, shape (q, k) or (k,)
            One row per combination, one column per term of :attr:`coef`.
        labels : sequence of str, optional
        conf_level : float, optional
            Level of the intervals (default: the fit's :attr:`conf_level`).

        Returns
        -------
        pandas.DataFrame
            ``label, estimate, se, df, statistic, p_value, ci_low, ci_high``.
        """
        matrix = self._contrast_matrix(contrast)
        level = self._level(conf_level, "test")
        table = self._inference.t_tests(matrix, level)
        if labels is not None and len(labels) != len(table):
            raise DataValidationError(
                f"{type(self).__name__}.test: {len(labels)} labels for {len(table)} contrast "
                "rows; give one label per row."
            )
        table.insert(0, "label", list(labels) if labels is not None else range(len(table)))
        return table

    def lsmeans(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        weights: str = "equal",
        *,
        conf_level: float | None = None,
    ) -> pd.DataFrame:
        """Least-squares means on the link scale (SAS LSMEANS, emmeans).

        Parameters
        ----------
        specs : str or list of str
            Factor(s) whose level combinations get an LS-mean.
        by : str or list of str, optional
            Factor(s) to condition on (a table per level), e.g. the visit.
        weights : {"equal", "proportional"}
            Averaging over the remaining factors: equal weights (SAS default) or
            proportional to their observed frequencies (SAS ``OM``).
        conf_level : float, optional
            Level of the intervals (default: the fit's :attr:`conf_level`).

        Returns
        -------
        pandas.DataFrame
            ``by..., specs..., estimate, se, df, statistic, p_value, ci_low, ci_high``
            (the test is against zero; for GLMM and GEE on the link scale, e.g. log odds).
        """
        level = self._level(conf_level, "lsmeans")
        where = f"{type(self).__name__}.lsmeans"
        cells, matrix = self._grid().lsmean_matrix(as_list(by) + as_list(specs), weights,
                                                   where=where)
        table = self._inference.t_tests(matrix, level)
        return pd.concat([cells.reset_index(drop=True), table], axis=1)

    def contrast(
        self,
        specs: str | list[str],
        by: str | list[str] | None = None,
        method: str = "revpairwise",
        reference=None,
        weights: str = "equal",
        adjust: str | None = None,
        *,
        conf_level: float | None = None,
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
        conf_level : float, optional
            Level of the intervals (default: the fit's :attr:`conf_level`).

        Returns
        -------
        pandas.DataFrame
            ``by..., contrast, estimate, se, df, statistic, p_value, ci_low, ci_high``;
            for GLMM/GEE on the link scale, then the exponentiated ratio and interval
            (``odds_ratio, or_ci_low, or_ci_high`` for the logit link); with ``adjust``
            also ``adjust, p_value_adjusted, ci_low_adjusted, ci_high_adjusted``
            (``p_value`` and ``ci_*`` stay unadjusted).

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
        level = self._level(conf_level, "contrast")
        pairs = self._grid().contrasts(specs, by, method, reference, weights,
                                       where=f"{type(self).__name__}.contrast")
        matrix = pairs.matrix
        table = pairs.label(self._inference.t_tests(matrix, level))
        table = add_ratios(table, self._ratios())
        if adjust is None:
            return table
        covariance = matrix @ self._inference.beta_vcov @ matrix.T
        return adjust_contrasts(table, covariance, pairs.by_keys, adjust, level)

    def anova(self) -> pd.DataFrame:
        """Type III tests of each model term (SAS Type 3 Tests of Fixed Effects).

        Returns
        -------
        pandas.DataFrame
            ``term, num_df, den_df, statistic, p_value``: ``statistic`` is the F
            statistic of the term's Type III hypothesis with the fit's df method. Where
            ``den_df`` is infinite (GLMM, GEE without ``df``) it is the Wald chi-square
            over ``num_df`` and the p-value the chi-square one (``car::Anova(type = 3)``
            gives ``statistic * num_df``).
        """
        rows = [
            {"term": term, **self._inference.f_test(matrix)}
            for term, matrix in self._grid().type3_matrices().items()
        ]
        return pd.DataFrame(rows, columns=["term", *F_COLUMNS])

    # ------------------------------------------------------------ predictions
    def _new_design(self, newdata: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Fixed-effects rows of ``newdata`` and the positions they came from."""
        rows = newdata.reset_index(drop=True)
        (design,) = patsy.build_design_matrices(
            [self._frame.design_info], rows, NA_action="drop", return_type="dataframe"
        )
        return design.to_numpy(dtype=float), design.index.to_numpy()

    def _new_linear_part(self, newdata: pd.DataFrame) -> np.ndarray:
        """``X beta`` of ``newdata`` (NaN where a covariate is missing)."""
        design, kept = self._new_design(newdata)
        values = np.full(len(newdata), np.nan)
        values[kept] = design @ self._inference.beta
        return values

    # ------------------------------------------------------------------- text
    def _header(self) -> str:
        return self._MODEL

    def _summary_title(self) -> str:
        return self._header()

    def _summary_details(self) -> list[str]:
        return []

    def _how_fitted(self) -> str:
        return ""

    def _summary_tables(self) -> list[str]:
        return []

    def summary(self) -> str:
        """A short text summary: model, formula, counts, fit, then :attr:`coef`."""
        lines = [
            self._summary_title(),
            f"formula: {self.formula}",
            f"observations: {self.n_obs} from {self.n_subjects} subjects "
            f"({self.n_missing_outcome} missing outcomes dropped)",
            *self._summary_details(),
            f"converged: {self.converged} ({self._how_fitted()})",
            "",
            *self._summary_tables(),
            self.coef.to_string(index=False),
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}: {self._header()}\n"
            f" formula: {self.formula}\n"
            f" n_obs={self.n_obs}, n_subjects={self.n_subjects}, "
            f"converged={self.converged}>"
        )


@dataclass(frozen=True, repr=False)
class LikelihoodResult(ModelResult):
    """A result fitted by (restricted) maximum likelihood: MMRM, LMM, GLMM."""

    loglik: float
    aic: float
    bic: float
    optimiser: str
    messages: tuple[str, ...]

    def _how_fitted(self) -> str:
        return self.optimiser


def likelihood_fields(minus_two_loglik, n_par: int, n_bic: int, converged, optimiser,
                      messages) -> dict:
    """``loglik, aic, bic, converged, optimiser, messages`` of a likelihood fit.

    ``aic = -2 loglik + 2 n_par``, ``bic = -2 loglik + n_par log(n_bic)``: ``n_bic`` is
    the subjects (SAS PROC MIXED, the MMRM) or the observations (lme4).
    """
    minus_two_loglik = float(minus_two_loglik)
    return {
        "loglik": -0.5 * minus_two_loglik,
        "aic": minus_two_loglik + 2 * n_par,
        "bic": minus_two_loglik + n_par * float(np.log(n_bic)),
        "converged": bool(converged),
        "optimiser": optimiser,
        "messages": tuple(messages),
    }
