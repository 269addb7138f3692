"""``reference_based_mi``: reference-based imputation, per-visit ANCOVA, pooling.

The three steps of rbmi (``draws``, ``impute``, ``analyse`` + ``pool``) in one call:
fit the imputation model (ketex's MMRM) to the full data and to each resample, impute
the missing outcomes under each participant's strategy, analyse every imputed dataset
by an ANCOVA at each visit and pool.  The imputed datasets are kept in the result, so
a delta adjustment or a tipping-point grid only repeats the ANCOVA.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ketex._deprecated import renamed
from ketex.errors import DataValidationError
from ketex.estimands._longdata import LongData, apply_ice, prepare
from ketex.estimands.ancova import AncovaDesign, ancova_estimates
from ketex.estimands.imputation_model import ImputationModel, ModelParameters
from ketex.estimands.impute import impute
from ketex.estimands.pooling import PooledEstimate, pool_bootstrap, pool_jackknife, rubin_rules
from ketex.estimands.strategies import Strategy, strategy_functions

__all__ = ["METHODS", "ReferenceBasedResult", "delta_template", "reference_based_mi"]

METHODS = ("condmean_jackknife", "condmean_bootstrap", "approx_bayes")
POOLED_COLUMNS = (
    "visit",
    "contrast",
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "p_value",
    "method",
    "strategy",
)
LSMEAN_COLUMNS = ("visit", "arm", "estimate", "se", "df", "ci_low", "ci_high", "p_value", "method")


@dataclass(frozen=True)
class _Sample:
    rows: np.ndarray  # analysed participants (indices; repeats in a bootstrap sample)
    y: np.ndarray  # their outcomes with the missing ones imputed, (len(rows), T)
    parameters: ModelParameters  # the imputation model fitted to this resample
    draws: np.random.SeedSequence | None  # seed of the random imputation (approx_bayes)


@dataclass(frozen=True)
class ReferenceBasedResult:
    """The pooled result of :func:`reference_based_mi` (immutable).

    Attributes
    ----------
    data : pandas.DataFrame
        ``visit, contrast, estimate, se, df, ci_low, ci_high, p_value, method, strategy``:
        one row per visit and arm-versus-control contrast of the ANCOVA.  ``df`` is
        ``inf`` for normal-based inference (jackknife, bootstrap).
    lsmeans : pandas.DataFrame
        ``visit, arm, estimate, se, df, ci_low, ci_high, p_value, method``.
    method : str
    n_samples : int
        Resamples (jackknife: participants; bootstrap: replicates; approx_bayes: imputations).
    confidence_level : float
    """

    data: pd.DataFrame
    lsmeans: pd.DataFrame
    method: str
    n_samples: int
    confidence_level: float
    bootstrap_interval: str
    _model: ImputationModel = field(repr=False)
    _functions: dict = field(repr=False)
    _keep_post_ice_data: bool = field(repr=False)
    _design: AncovaDesign = field(repr=False)
    _samples: tuple = field(repr=False)

    @property
    def _long(self) -> LongData:
        return self._model.long

    def imputed_data(self, sample: int = 0) -> pd.DataFrame:
        """One imputed dataset as long data with an imputation flag.

        Parameters
        ----------
        sample : int
            0 is the full data for the conditional mean methods (the imputation the
            point estimate comes from) and the first imputation for ``approx_bayes``.

        Returns
        -------
        pandas.DataFrame
            ``subject, visit, arm, outcome, imputed, DTYPE`` (``DTYPE`` is
            ``"IMPUTED"`` for imputed values, empty otherwise, as in an ADaM ADMI);
            columns named after the data's own.
        """
        long = self._long
        chosen = self._samples[sample]
        t = long.n_visits
        frame = pd.DataFrame(
            {
                long.subject: np.repeat(long.subjects.to_numpy()[chosen.rows], t),
                long.visit: np.tile(np.asarray(long.visits, dtype=object), chosen.rows.size),
                long.group: np.repeat(
                    np.asarray(long.arms, dtype=object)[long.arm_codes[chosen.rows]], t
                ),
                long.outcome: chosen.y.ravel(),
                "imputed": long.is_missing[chosen.rows].ravel(),
            }
        )
        frame["DTYPE"] = np.where(frame["imputed"], "IMPUTED", "")
        return frame

    def with_delta(self, delta: pd.DataFrame | None) -> ReferenceBasedResult:
        """The same imputations analysed with another delta adjustment (see
        :func:`reference_based_mi`)."""
        return _analyse(self, delta)

    def with_ice(self, ice: pd.DataFrame | None) -> ReferenceBasedResult:
        """Impute again under other strategies without refitting (rbmi's
        ``update_strategy``).

        Allowed when the imputation model's data do not change (the same observed
        outcomes are MAR): any change among JR, CR, CIR, LMCF and user-defined
        strategies, and a change between MAR and a non-MAR strategy for participants
        with no outcome observed after their ICE.  The result is then the same as
        :func:`reference_based_mi` with the new table.

        Raises
        ------
        ValueError
            The new ICE table puts observed outcomes into or out of the imputation model
            (MAR <-> non-MAR for a participant observed after the ICE, or a moved ICE
            visit); call :func:`reference_based_mi` again.  rbmi's ``update_strategy``
            refuses MAR -> non-MAR in that case too, but only warns for non-MAR -> MAR.
        """
        model = self._model
        long = apply_ice(model.long, ice, self._functions, self._keep_post_ice_data)
        before = model.long.is_mar & ~model.long.is_missing
        after = long.is_mar & ~long.is_missing
        if not np.array_equal(after, before):
            changed = np.flatnonzero((after != before).any(axis=1))
            raise ValueError(
                "The new ICE table changes which outcomes enter the imputation model "
                f"(participants {long.subjects[changed][:5].tolist()}); run "
                "reference_based_mi again with it."
            )
        model = replace(model, long=long)
        samples = tuple(
            replace(s, y=impute(model, s.parameters, self._functions, s.rows, _rng(s.draws)))
            for s in self._samples
        )
        return _analyse(replace(self, _model=model, _samples=samples), None)


def reference_based_mi(
    data: pd.DataFrame,
    formula: str,
    *,
    subject: str,
    visit: str,
    group: str,
    references: Mapping,
    ice: pd.DataFrame | None = None,
    method: str = "condmean_jackknife",
    analysis_covariates: Sequence[str] = (),
    control: str | None = None,
    delta: pd.DataFrame | None = None,
    n_samples: int | None = None,
    seed: int | None = None,
    covariance: str = "us",
    reml: bool = True,
    same_covariance: bool = True,
    keep_post_ice_data: bool = True,
    strategies: Mapping[str, Strategy] | None = None,
    bootstrap_interval: str = "percentile",
    conf_level: float = 0.95,
    backend: str = "serial",
    n_jobs: int | None = None,
    client=None,
    confidence_level: float | None = None,
) -> ReferenceBasedResult:
    """Reference-based multiple imputation with an ANCOVA at each visit (rbmi).

    Parameters
    ----------
    data : pandas.DataFrame
        Long data; a missing visit is either absent (its covariates are then taken from
        the participant's other rows, when constant) or present with a missing outcome.
    formula : str
        The imputation model, e.g. ``"CHANGE ~ BASVAL * VISIT + THERAPY * VISIT"``; it
        must contain ``group`` (and usually ``group x visit``).
    subject, visit, group : str
        Columns of participants, visits and arms.
    references : mapping
        The reference arm of each arm, e.g. ``{"DRUG": "PLACEBO", "PLACEBO": "PLACEBO"}``.
    ice : pandas.DataFrame, optional
        Intercurrent events as rbmi's ``data_ice``: columns ``subject``, ``visit`` (the
        first visit affected) and ``strategy`` (``MAR``, ``JR``, ``CR``, ``CIR``,
        ``LMCF`` or a name in ``strategies``), one row per participant with an event.
        Participants without a row are imputed under MAR.
    method : {"condmean_jackknife", "condmean_bootstrap", "approx_bayes"}
        Conditional mean imputation with jackknife (deterministic) or bootstrap
        (``n_samples`` replicates, stratified by arm) inference, or approximate Bayesian
        multiple imputation (``n_samples`` imputations, each from the model fitted to a
        stratified bootstrap sample) pooled by Rubin's rules.
    analysis_covariates : sequence of str
        Covariates of the per-visit ANCOVA (patsy terms), e.g. ``["BASVAL"]``.
    control : str, optional
        The arm the others are compared with; default: the arm that is its own
        reference (must be unique).
    delta : pandas.DataFrame, optional
        ``subject, visit, delta`` (columns named as in the data): added to the imputed
        values of those cells before the analysis (a delta adjustment).  A non-zero
        delta on an observed value is an error.  :func:`delta_template` makes the table.
    n_samples : int, optional
        Required for the bootstrap and approximate Bayesian methods.
    seed : int, optional
        Seed of the resampling and of the draws; replicate ``r`` gets the r-th child of
        ``numpy.random.SeedSequence(seed)``.
    covariance : str
        Covariance structure of the imputation MMRM (any of :func:`ketex.mmrm`'s).
    reml : bool
        REML (default, as rbmi) or ML fits of the imputation model.
    same_covariance : bool
        One covariance matrix for all arms (default) or one per arm.
    keep_post_ice_data : bool
        Observed outcomes after an ICE with a non-MAR strategy are always left out of the
        imputation model; ``True`` (rbmi's behaviour) keeps them in the analysis (and
        conditions on them), ``False`` sets them missing so they are imputed.
    strategies : mapping, optional
        User-defined strategies, name -> function (see :mod:`ketex.estimands.strategies`).
    bootstrap_interval : {"percentile", "normal"}
    conf_level : float
        Level of the intervals (``result.confidence_level``).
    backend : {"serial", "processes", "dask"}
        Where the fits to the resamples (jackknife, bootstrap, approx_bayes) run, as in
        :func:`ketex.power` (:mod:`ketex.simulate.backends`).  The result does not
        depend on the backend: every resample's seed is fixed beforehand.
    n_jobs : int, optional
        Worker processes for ``"processes"`` (default: the CPUs available).
    client : distributed.Client or str, optional
        For ``"dask"``: the client or the scheduler's address.
    confidence_level : float, optional
        Deprecated alias of ``conf_level`` (a :class:`FutureWarning`; removed in the next
        release).

    Returns
    -------
    ReferenceBasedResult

    Notes
    -----
    Variances targeted: the jackknife and bootstrap of conditional mean imputation
    estimate the frequentist (repeated-sampling) variance of the estimator; Rubin's
    rules after approximate Bayesian imputation give the information-anchored variance
    (Cro et al. 2019), which under reference-based strategies is larger.

    R equivalent: ``rbmi::draws(data, data_ice, vars, method_condmean(type =
    "jackknife"))`` then ``impute(..., references)``, ``analyse(..., ancova, vars)`` and
    ``pool``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> n = 40
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(n), 3), "visit": np.tile(["W2", "W4", "W6"], n),
    ...                   "arm": np.repeat(np.where(np.arange(n) < n // 2, "PBO", "KET"), 3),
    ...                   "base": np.repeat(rng.normal(25, 4, n), 3)})
    >>> trend = np.tile([1.0, 2.0, 3.0], n) * np.where(d["arm"] == "KET", -2.0, -1.0)
    >>> d["change"] = trend + rng.normal(size=3 * n) + np.repeat(rng.normal(size=n), 3)
    >>> d.loc[(d["id"] % 5 == 0) & (d["visit"] == "W6"), "change"] = np.nan
    >>> ice = pd.DataFrame({"id": d.loc[d["change"].isna(), "id"], "visit": "W6", "strategy": "JR"})
    >>> fit = reference_based_mi(d, "change ~ base * visit + arm * visit", subject="id",
    ...                          visit="visit", group="arm", ice=ice,
    ...                          references={"KET": "PBO", "PBO": "PBO"},
    ...                          analysis_covariates=["base"])
    >>> fit.data[["visit", "contrast"]].values.tolist()
    [['W2', 'KET - PBO'], ['W4', 'KET - PBO'], ['W6', 'KET - PBO']]
    >>> list(fit.data.columns)[2:8]
    ['estimate', 'se', 'df', 'ci_low', 'ci_high', 'p_value']
    >>> fit.data["strategy"].iloc[0], fit.n_samples
    ('JR', 40)
    """
    conf_level = renamed("reference_based_mi", "confidence_level", "conf_level",
                         confidence_level, conf_level, default=0.95)
    functions = strategy_functions(strategies)
    problems = []
    if method not in METHODS:
        problems.append(f"method must be one of {METHODS}, got {method!r}")
    if method == "condmean_jackknife" and n_samples is not None:
        problems.append("n_samples is not used by the jackknife (one sample per participant)")
    if method != "condmean_jackknife" and not (isinstance(n_samples, int) and n_samples >= 2):
        problems.append(f"method {method!r} needs n_samples, an integer >= 2; got {n_samples!r}")
    if bootstrap_interval not in ("percentile", "normal"):
        problems.append(
            f"bootstrap_interval must be 'percentile' or 'normal', got {bootstrap_interval!r}"
        )
    if not 0 < conf_level < 1:
        problems.append(f"conf_level must be in (0, 1), got {conf_level}")
    if isinstance(analysis_covariates, str):
        problems.append("analysis_covariates must be a list of terms, e.g. ['BASVAL']")
    if backend not in ("serial", "processes", "dask"):
        problems.append(f"backend must be 'serial', 'processes' or 'dask', got {backend!r}")
    if problems:
        raise ValueError("; ".join(problems) + ".")
    long = prepare(
        data,
        formula,
        subject=subject,
        visit=visit,
        group=group,
        ice=ice,
        references=references,
        strategies=functions,
        analysis_covariates=analysis_covariates,
        keep_post_ice_data=keep_post_ice_data,
    )
    control_code = _control_arm(long, references, control)
    model = ImputationModel.build(
        long, formula, covariance, "reml" if reml else "ml", same_covariance
    )
    design = AncovaDesign.build(long, list(analysis_covariates), control_code)
    unanalysed = ReferenceBasedResult(
        data=pd.DataFrame(columns=list(POOLED_COLUMNS)),
        lsmeans=pd.DataFrame(columns=list(LSMEAN_COLUMNS)),
        method=method,
        n_samples=0,
        confidence_level=conf_level,
        bootstrap_interval=bootstrap_interval,
        _model=model,
        _functions=functions,
        _keep_post_ice_data=keep_post_ice_data,
        _design=design,
        _samples=_samples(
            model, functions, method, n_samples, seed, (backend, n_jobs, client)
        ),
    )
    return _analyse(unanalysed, delta)


def _control_arm(long: LongData, references: Mapping, control: str | None) -> int:
    if control is not None:
        if control not in long.arms:
            raise ValueError(f"control {control!r} is not an arm of the data {list(long.arms)}.")
        return long.arms.index(control)
    own = [a for a in long.arms if references.get(a) == a]
    if len(own) != 1:
        raise ValueError(
            "Name the control arm (control=...): it cannot be told from references "
            f"(arms that are their own reference: {own})."
        )
    return long.arms.index(own[0])


def _stratified_bootstrap(long: LongData, rng: np.random.Generator) -> np.ndarray:
    rows = [
        rng.choice(np.flatnonzero(long.arm_codes == g), size=int(np.sum(long.arm_codes == g)))
        for g in range(len(long.arms))
    ]
    return np.sort(np.concatenate(rows))


def _rng(seed: np.random.SeedSequence | None) -> np.random.Generator | None:
    return None if seed is None else np.random.default_rng(seed)


def _samples(
    model: ImputationModel, functions, method, n_samples, seed, where=("serial", None, None)
) -> tuple[_Sample, ...]:
    """The full-data sample (conditional mean methods) and one per resample.

    Resample ``r`` is described beforehand (the participant left out, or the r-th child
    of ``SeedSequence(seed)``), so the samples do not depend on where they are fitted.
    """
    from ketex.simulate.backends import one_blas_thread

    long = model.long
    jobs: list[int] | list[np.random.SeedSequence]
    if method == "condmean_jackknife":
        jobs = list(range(long.n_subjects))
    else:
        jobs = np.random.SeedSequence(seed).spawn(n_samples)
    everyone = np.arange(long.n_subjects)
    backend, n_jobs, client = where
    in_process = backend == "serial" or n_jobs == 1
    # one BLAS thread: on these small matrices a threaded BLAS is several times slower
    # (1,000 bootstrap fits of 300 participants: 5x), and the workers do the same
    with one_blas_thread():
        full = model.fit()
        head = [] if method == "approx_bayes" else [_sample(model, functions, everyone, full)]
        rest = None
        if in_process:
            rest = [_resample(model, functions, method, full, job) for job in jobs]
    if rest is None:
        rest = _run_resamples(model, functions, method, full, jobs, backend, n_jobs, client)
    return tuple(head + rest)


def _sample(model, functions, rows, parameters, draws=None) -> _Sample:
    y = impute(model, parameters, functions, rows, _rng(draws))
    return _Sample(rows, y, parameters, draws)


def _resample(model: ImputationModel, functions, method, full: ModelParameters, job) -> _Sample:
    """Fit the imputation model to one resample and impute (``job``: see ``_samples``)."""
    long = model.long
    if method == "condmean_jackknife":
        rows = np.delete(np.arange(long.n_subjects), job)
        return _sample(model, functions, rows, model.fit(rows, start=full.theta))
    if method == "condmean_bootstrap":
        rows = _stratified_bootstrap(long, np.random.default_rng(job))
        return _sample(model, functions, rows, model.fit(rows, start=full.theta))
    # approx_bayes: parameters from a bootstrap fit, a random draw for all participants
    resample, draws = np.random.SeedSequence(job.entropy, spawn_key=job.spawn_key).spawn(2)
    rows = _stratified_bootstrap(long, np.random.default_rng(resample))
    parameters = model.fit(rows, start=full.theta)
    return _sample(model, functions, np.arange(long.n_subjects), parameters, draws)


def _resample_batch(model, functions, method, full, batch) -> list[tuple[int, _Sample]]:
    from ketex.simulate.backends import one_blas_thread

    with one_blas_thread():
        return [(r, _resample(model, functions, method, full, job)) for r, job in batch]


def _run_resamples(model, functions, method, full, jobs, backend, n_jobs, client) -> list:
    from ketex.simulate.backends import default_workers, run_tasks

    numbered = list(enumerate(jobs))
    workers = n_jobs if n_jobs is not None else (64 if backend == "dask" else default_workers())
    size = max(1, -(-len(numbered) // (4 * workers)))
    batches = [numbered[k : k + size] for k in range(0, len(numbered), size)]
    # patsy's design information cannot be pickled; the fits do not use it
    shipped = replace(model, frame=replace(model.frame, design_info=None))
    done: list[tuple[int, _Sample]] = []
    run_tasks(
        _resample_batch,
        [(shipped, functions, method, full, batch) for batch in batches],
        done.extend,
        backend=backend,
        n_jobs=n_jobs,
        client=client,
    )
    return [sample for _, sample in sorted(done, key=lambda pair: pair[0])]


def _delta_cells(long: LongData, delta: pd.DataFrame | None) -> np.ndarray:
    cells = np.zeros((long.n_subjects, long.n_visits))
    if delta is None or len(delta) == 0:
        return cells
    needed = [long.subject, long.visit, "delta"]
    absent = [c for c in needed if c not in delta.columns]
    if absent:
        raise DataValidationError(
            f"The delta table needs columns {needed}; {absent} are missing "
            f"(columns are {list(delta.columns)}). delta_template(result) makes one."
        )
    who = pd.Index(long.subjects).get_indexer(delta[long.subject])
    when = pd.Index(list(long.visits)).get_indexer(delta[long.visit])
    values = pd.to_numeric(delta["delta"], errors="coerce").to_numpy(dtype=float)
    bad = (who < 0) | (when < 0) | ~np.isfinite(values)
    if bad.any():
        rows = delta.index[bad][:5].tolist()
        raise DataValidationError(
            f"delta table rows {rows}: unknown {long.subject}/{long.visit} or a non-numeric delta."
        )
    if pd.MultiIndex.from_arrays([who, when]).duplicated().any():
        raise DataValidationError("The delta table repeats a (subject, visit) cell.")
    observed = ~long.is_missing[who, when] & (values != 0)
    if observed.any():
        rows = delta.index[observed][:5].tolist()
        raise DataValidationError(
            f"delta table rows {rows} put a non-zero delta on observed outcomes; a delta "
            "adjusts imputed values only (multiply by the template's is_missing)."
        )
    cells[who, when] = values
    return cells


def _analyse(result: ReferenceBasedResult, delta) -> ReferenceBasedResult:
    long, design, samples = result._long, result._design, result._samples
    method, conf_level = result.method, result.confidence_level
    bootstrap_interval = result.bootstrap_interval
    label = ", ".join(sorted(set(long.strategy[long.ice_index < long.n_visits]))) or "MAR"
    cells = _delta_cells(long, delta)
    fits = [ancova_estimates(design, (s.y + cells[s.rows])[:, :, None], s.rows) for s in samples]
    arms = list(long.arms)
    others = design.others
    rows, lsm_rows = [], []
    for t, visit_level in enumerate(long.visits):
        for j, g in enumerate(others):
            pooled = _pool(
                [f["effect"][t, j, 0] for f in fits],
                [f["effect_se"][t, j, 0] for f in fits],
                fits[0]["df"],
                method,
                conf_level,
                bootstrap_interval,
            )
            rows.append((visit_level, f"{arms[g]} - {arms[design.control]}", pooled))
        for g, arm in enumerate(arms):
            pooled = _pool(
                [f["lsmean"][t, g, 0] for f in fits],
                [f["lsmean_se"][t, g, 0] for f in fits],
                fits[0]["df"],
                method,
                conf_level,
                bootstrap_interval,
            )
            lsm_rows.append((visit_level, arm, pooled))
    data = pd.DataFrame(
        [
            (v, c, p.estimate, p.se, p.df, p.ci_low, p.ci_high, p.p_value, method, label)
            for v, c, p in rows
        ],
        columns=list(POOLED_COLUMNS),
    )
    lsmeans = pd.DataFrame(
        [
            (v, a, p.estimate, p.se, p.df, p.ci_low, p.ci_high, p.p_value, method)
            for v, a, p in lsm_rows
        ],
        columns=list(LSMEAN_COLUMNS),
    )
    n_samples = len(samples) - (0 if method == "approx_bayes" else 1)
    return replace(result, data=data, lsmeans=lsmeans, n_samples=n_samples)


def _pool(estimates, ses, df, method, conf_level, bootstrap_interval) -> PooledEstimate:
    if method == "condmean_jackknife":
        return pool_jackknife(estimates[0], estimates[1:], conf_level)
    if method == "condmean_bootstrap":
        return pool_bootstrap(estimates[0], estimates[1:], bootstrap_interval, conf_level)
    return rubin_rules(estimates, ses, df, conf_level)


def delta_template(result: ReferenceBasedResult) -> pd.DataFrame:
    """A delta table for :func:`reference_based_mi`: every participant and visit.

    Returns
    -------
    pandas.DataFrame
        ``subject, visit, group, is_missing, is_post_ice, strategy, delta`` (first three
        named as in the data; ``delta`` 0): set ``delta`` on imputed cells, e.g.
        ``t["delta"] = 2.0 * t["is_missing"] * (t["arm"] == "KET")``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(20), 2), "visit": np.tile(["W1", "W2"], 20),
    ...                   "arm": np.repeat(np.tile(["PBO", "KET"], 10), 2)})
    >>> d["y"] = np.random.default_rng(2).normal(size=40)
    >>> d.loc[[3, 7], "y"] = np.nan
    >>> fit = reference_based_mi(d, "y ~ arm * visit", subject="id", visit="visit", group="arm",
    ...                          references={"KET": "PBO", "PBO": "PBO"})
    >>> t = delta_template(fit)
    >>> int(t["is_missing"].sum()), list(t.columns)
    (2, ['id', 'visit', 'arm', 'is_missing', 'is_post_ice', 'strategy', 'delta'])
    """
    long = result._long
    t = long.n_visits
    return pd.DataFrame(
        {
            long.subject: np.repeat(long.subjects.to_numpy(), t),
            long.visit: np.tile(np.asarray(long.visits, dtype=object), long.n_subjects),
            long.group: np.repeat(np.asarray(long.arms, dtype=object)[long.arm_codes], t),
            "is_missing": long.is_missing.ravel(),
            "is_post_ice": long.is_post_ice.ravel(),
            "strategy": np.repeat(long.strategy, t),
            "delta": 0.0,
        }
    )
