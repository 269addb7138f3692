"""Simulation-based power analysis: how many participants does the next trial need?

:func:`power` simulates the trial many times at each sample size, analyses every
simulated trial as the real one will be analysed, and counts how often the analysis
rejects the null hypothesis: under the design (power) and under its null version, in
which the arms do not differ (type I error). It also reports the bias of the estimate
and the coverage of its confidence interval against the true effect. Every simulation
has its own seed, derived from ``seed``, the sample size and its number, so results do
not depend on the backend or the number of workers, and a run can be resumed from its
results file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from scipy import stats

from ketex.effects import wilson
from ketex.errors import KetexError
from ketex.simulate.analyses import MMRMAnalysis, as_result
from ketex.simulate.backends import (
    BACKENDS,
    Progress,
    default_workers,
    one_blas_thread,
    run_tasks,
)
from ketex.simulate.design import TrialDesign
from ketex.simulate.trial import simulate_trial

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "SIMULATION_COLUMNS",
    "SUMMARY_COLUMNS",
    "PowerResult",
    "null_design",
    "plot_power",
    "power",
    "simulation_seed",
    "wilson_interval",
]

SCENARIOS = ("design", "null")

#: Columns of :attr:`PowerResult.simulations` (an analysis may add its own after them).
SIMULATION_COLUMNS = {
    "scenario": "'design' (the design as given) or 'null' (arms that do not differ)",
    "n_per_arm": "participants per arm",
    "sim": "number of the simulation, 0, 1, ... within scenario and size",
    "seed": "seed of simulate_trial for this simulation (re-simulate it to look closer)",
    "estimate": "the analysis's estimate (MMRM: treatment - control difference)",
    "se": "its standard error",
    "p_value": "two-sided p-value",
    "ci_low": "lower confidence limit (missing if the analysis gives none)",
    "ci_high": "upper confidence limit",
    "error": "why the analysis failed ('' when it did not); failed simulations are left "
             "out of the summary and counted in n_failed",
    "warning": "warnings raised during the analysis ('' when none)",
}

#: Columns of :attr:`PowerResult.summary`.
SUMMARY_COLUMNS = {
    "scenario": "'design' or 'null'",
    "n_per_arm": "participants per arm",
    "n_sims": "simulations analysed (failed ones left out)",
    "n_failed": "simulations whose analysis failed",
    "n_estimated": "analysed simulations with a finite estimate and SE (e.g. not a hazard "
                   "ratio with no event in one arm): bias, SEs and coverage are over these",
    "rejection_rate": "share of analysed simulations with p_value < alpha: the power in "
                      "'design' rows, the type I error in 'null' rows",
    "rejection_ci_low": "Wilson confidence interval of rejection_rate (Monte Carlo error)",
    "rejection_ci_high": "",
    "true_effect": "value the estimate targets (NaN when unknown)",
    "true_effect_mcse": "Monte Carlo SE of true_effect when it was itself simulated",
    "mean_estimate": "mean of the estimates",
    "bias": "mean_estimate - true_effect",
    "bias_mcse": "Monte Carlo SE of the bias (empirical_se / sqrt(n_sims))",
    "empirical_se": "standard deviation of the estimates",
    "mean_se": "mean of the standard errors the analysis reported",
    "coverage": "share of confidence intervals containing true_effect",
    "coverage_ci_low": "Wilson confidence interval of coverage",
    "coverage_ci_high": "",
}

_FAILURES = (KetexError, ValueError, ArithmeticError)
_FILE_VERSION = "ketex-power-1"


@dataclass(frozen=True)
class PowerResult:
    """What :func:`power` found.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per scenario and sample size, columns :data:`SUMMARY_COLUMNS`.
    simulations : pandas.DataFrame
        One row per simulation, columns :data:`SIMULATION_COLUMNS` (plus any the
        analysis adds, e.g. ``df`` for the MMRM, ``events`` for relapse).
    alpha : float
        Significance level of the tests.
    confidence_level : float
        Level of the Monte Carlo confidence intervals.
    analysis : str
        The analysis, in words (its ``repr``).
    seconds : float
        Wall time of the run (simulations and truth).
    """

    summary: pd.DataFrame
    simulations: pd.DataFrame
    alpha: float
    confidence_level: float
    analysis: str
    seconds: float = dataclasses.field(default=float("nan"), compare=False)

    @property
    def power(self) -> pd.DataFrame:
        """``n_per_arm, power, ci_low, ci_high`` under the design."""
        return self._rates("design", "power")

    @property
    def type_one_error(self) -> pd.DataFrame:
        """``n_per_arm, type_one_error, ci_low, ci_high`` under the null design."""
        return self._rates("null", "type_one_error")

    def _rates(self, scenario: str, name: str) -> pd.DataFrame:
        rows = self.summary[self.summary["scenario"] == scenario]
        return pd.DataFrame({
            "n_per_arm": rows["n_per_arm"].to_numpy(),
            name: rows["rejection_rate"].to_numpy(),
            "ci_low": rows["rejection_ci_low"].to_numpy(),
            "ci_high": rows["rejection_ci_high"].to_numpy(),
        })

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """The power curve; see :func:`plot_power`."""
        return plot_power(self, ax=ax, **kwargs)


def null_design(design: TrialDesign, control: str | None = None) -> TrialDesign:
    """The design with arms that do not differ: every arm treated as the control arm.

    Every arm keeps its code and label but takes the control arm's infusions, and added
    effects (:class:`~ketex.simulate.AddedEffectDesign`) are removed, so the true
    difference between arms is zero for any endpoint.

    Parameters
    ----------
    design : TrialDesign
    control : str, optional
        Arm code; by default the first arm.

    Examples
    --------
    >>> from ketex.simulate import TrialDesign
    >>> null = null_design(TrialDesign())
    >>> [(arm.code, arm.infusion_days) for arm in null.arms]
    [('SINGLE', (1,)), ('SERIES', (1,))]
    """
    if not isinstance(design, TrialDesign):
        raise ValueError(f"design must be a TrialDesign, got {type(design).__name__}")
    code = design.arm_codes[0] if control is None else control
    if code not in design.arm_codes:
        raise ValueError(f"control: {code!r} is not an arm ({', '.join(design.arm_codes)})")
    reference = design.arms[design.arm_codes.index(code)]
    arms = tuple(dataclasses.replace(reference, code=arm.code, label=arm.label)
                 for arm in design.arms)
    return dataclasses.replace(design, arms=arms, added_effects=None)


def simulation_seed(seed: int, n_per_arm: int, sim: int) -> int:
    """The seed of simulation ``sim`` at ``n_per_arm`` participants per arm.

    From :class:`numpy.random.SeedSequence` with entropy ``seed`` and spawn key
    ``(n_per_arm, sim)``: independent streams, the same whatever else is run, where and
    in which order. The design and its null version share seeds (common random numbers).

    Examples
    --------
    >>> simulation_seed(2024, 50, 0) == simulation_seed(2024, 50, 0)
    True
    >>> simulation_seed(2024, 50, 0) != simulation_seed(2024, 50, 1)
    True
    """
    sequence = np.random.SeedSequence(seed, spawn_key=(n_per_arm, sim))
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def wilson_interval(successes: int, trials: int,
                    confidence_level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (NaN, NaN when there are no trials).

    :func:`ketex.effects.wilson` (the one Wilson interval), without the rate.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(50, 1000)]  # R: prop.test(50, 1000, correct = FALSE)
    [0.0381, 0.0653]
    >>> wilson_interval(0, 100)[0], wilson_interval(100, 100)[1]
    (0.0, 1.0)
    """
    _, low, high = wilson(successes, trials, confidence_level)
    return low, high


def power(
    design: TrialDesign,
    n_per_arm: int | Sequence[int],
    n_sims: int = 1000,
    analysis: Callable[..., Mapping[str, float]] | None = None,
    *,
    seed: int = 0,
    null: bool = True,
    alpha: float = 0.05,
    confidence_level: float = 0.95,
    true_effect: float | None = None,
    backend: str = "processes",
    n_jobs: int | None = None,
    client: Any = None,
    results_file: str | Path | None = None,
    progress: bool = True,
) -> PowerResult:
    """Power, type I error, bias and coverage of an analysis, by simulation.

    Parameters
    ----------
    design : TrialDesign
        The trial as planned; ``n_per_arm`` replaces its sample size. For power at a
        stated effect, add one with :class:`~ketex.simulate.AddedEffectDesign`.
    n_per_arm : int or sequence of int
        Sample sizes (participants per arm) to simulate.
    n_sims : int
        Simulated trials per sample size (and scenario). The Monte Carlo SE of a power
        near 0.8 is about ``0.4 / sqrt(n_sims)``: 0.013 for 1,000.
    analysis : callable, optional
        Applied to every simulated trial; by default :class:`MMRMAnalysis` (the primary
        MMRM, difference at the primary visit). :class:`RelapseAnalysis` tests time to
        relapse. Any callable taking a :class:`~ketex.study.trial.Trial` and returning a
        mapping with ``estimate``, ``se``, ``p_value`` (and optionally ``ci_low``,
        ``ci_high``) will do; it must be picklable (a module-level function) for the
        ``processes`` and ``dask`` backends.
    seed : int
        Master seed; each simulation's seed comes from it (:func:`simulation_seed`).
    null : bool
        Also simulate the null design (:func:`null_design`) for the type I error.
    alpha : float
        Two-sided significance level.
    confidence_level : float
        Of the Monte Carlo intervals of power and coverage (Wilson).
    true_effect : float, optional
        Value the estimate targets under the design, for bias and coverage. By default
        the analysis's own (``analysis.true_value(design)``: the MMRM's is simulated from
        counterfactual twins, :func:`ketex.simulate.fast.true_difference`); NaN when it
        has none. Under the null design it is ``analysis.null_value`` (0 for both
        built-in analyses: no difference, log hazard ratio 0).
    backend : {"processes", "serial", "dask"}
        Where simulations run (:mod:`ketex.simulate.backends`).
    n_jobs : int, optional
        Worker processes for ``"processes"`` (default: every CPU available); for
        ``"dask"``, the cluster's worker threads, which only sizes the batches sent.
    client : distributed.Client or str, optional
        For ``"dask"``: the client or the scheduler's address (default: the current
        client).
    results_file : str or Path, optional
        CSV file that keeps every simulation as it completes. When it exists, the
        simulations already in it are not run again, so an interrupted run resumes;
        more simulations or sizes may be asked for. It must come from the same design,
        analysis, seed and ketex version (checked).
    progress : bool
        Show a progress bar on standard error.

    Returns
    -------
    PowerResult
        ``summary`` (one row per scenario and size), ``simulations`` (one row per
        simulated trial), ``.power``, ``.type_one_error`` and ``.plot()``.

    Raises
    ------
    ValueError
        Invalid arguments, or a results file from another run.

    Notes
    -----
    An analysis that fails on a simulated trial (a model that does not converge, an
    arm without events) is recorded with its error and left out of the rates;
    ``n_failed`` counts them. A failure of any other kind (a bug) stops the run; the
    simulations done so far stay in ``results_file``.

    Examples
    --------
    A difference of 3 MADRS points at week 12, 20 participants per arm (far too few
    simulations for a real plan; use 1,000):

    >>> import dataclasses
    >>> from ketex.simulate import AddedEffectDesign, TrialDesign
    >>> design = dataclasses.replace(
    ...     TrialDesign(), added_effects=(AddedEffectDesign("SERIES", -3.0),))
    >>> result = power(design, n_per_arm=[20], n_sims=4, seed=1, backend="serial",
    ...                progress=False)
    >>> result.summary[["scenario", "n_per_arm", "n_sims", "rejection_rate"]]
      scenario  n_per_arm  n_sims  rejection_rate
    0   design         20       4             0.5
    1     null         20       4             0.0
    >>> float(round(result.summary.loc[0, "true_effect"], 2))   # simulated: twins on each arm
    -3.0
    """
    start = time.perf_counter()
    sizes = _check_arguments(design, n_per_arm, n_sims, seed, alpha, confidence_level,
                             backend)
    analysis = MMRMAnalysis() if analysis is None else analysis
    if not callable(analysis):
        raise ValueError(f"analysis must be callable, got {type(analysis).__name__}")
    if hasattr(analysis, "prepare"):
        analysis = analysis.prepare(design)
    control = getattr(analysis, "control", None)
    designs = {"design": design}
    if null:
        designs["null"] = null_design(design, control)
    fingerprint = _fingerprint(designs, analysis, seed)
    path = Path(results_file) if results_file is not None else None
    done = _read_results(path, fingerprint) if path is not None else _empty_results()
    finished = set(zip(done["scenario"], done["n_per_arm"], done["sim"], strict=True))
    jobs = [(scenario, n, sim, simulation_seed(seed, n, sim))
            for scenario in designs for n in sizes for sim in range(n_sims)
            if (scenario, n, sim) not in finished]
    rows: list[dict[str, Any]] = []
    bar = Progress(len(jobs), enabled=progress)

    def collect(batch: list[dict[str, Any]]) -> None:
        rows.extend(batch)
        if path is not None:
            _append_results(path, batch, fingerprint, _extra_keys(analysis))
        bar.update(len(batch))

    try:
        run_tasks(_simulate_batch,
                  [(designs, analysis, batch) for batch in _batches(jobs, n_jobs, backend)],
                  collect, backend=backend, n_jobs=n_jobs, client=client)
    finally:
        bar.close()
    extra = _extra_keys(analysis)
    simulations = _tidy(pd.concat([done, _frame(rows, extra)], ignore_index=True), sizes,
                        n_sims, designs)
    simulations = simulations[[c for c in _columns(extra) if c in simulations.columns]]
    truths = _truths(designs, analysis, true_effect, seed)
    summary = _summarise(simulations, truths, alpha, confidence_level)
    return PowerResult(summary=summary, simulations=simulations, alpha=alpha,
                       confidence_level=confidence_level, analysis=_describe(analysis),
                       seconds=time.perf_counter() - start)


# -- arguments ------------------------------------------------------------------------


def _whole(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def _check_arguments(design, n_per_arm, n_sims, seed, alpha, confidence_level,
                     backend) -> list[int]:
    problems = []
    if not isinstance(design, TrialDesign):
        problems.append(f"design must be a TrialDesign, got {type(design).__name__}")
    sizes = [n_per_arm] if _whole(n_per_arm) else n_per_arm
    try:
        sizes = list(sizes)
    except TypeError:
        sizes = [None]
    if not sizes or not all(_whole(n) and n > 0 for n in sizes):
        problems.append(f"n_per_arm must be a positive whole number or a list of them, got "
                        f"{n_per_arm!r}")
    if not _whole(n_sims) or n_sims < 1:
        problems.append(f"n_sims must be a positive whole number, got {n_sims!r}")
    if not _whole(seed) or seed < 0:
        problems.append(f"seed must be a non-negative whole number, got {seed!r}")
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        problems.append(f"alpha must lie in (0, 1), got {alpha!r}")
    if not (isinstance(confidence_level, float | int) and 0 < confidence_level < 1):
        problems.append(f"confidence_level must lie in (0, 1), got {confidence_level!r}")
    if backend not in BACKENDS:
        problems.append(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if problems:
        raise ValueError("; ".join(problems))
    return sorted({int(n) for n in sizes})


def _describe(analysis: Any) -> str:
    if dataclasses.is_dataclass(analysis):
        return repr(analysis)
    if hasattr(analysis, "__qualname__"):
        return f"{getattr(analysis, '__module__', '')}.{analysis.__qualname__}"
    kind = type(analysis)
    return f"{kind.__module__}.{kind.__qualname__}"


def _fingerprint(designs: dict[str, TrialDesign], analysis: Any, seed: int) -> str:
    # another ketex version may simulate or analyse differently: do not mix their results
    from ketex import __version__

    parts = [_FILE_VERSION, __version__, _describe(analysis), str(seed)]
    parts += [f"[{name}]\n{design.to_toml()}" for name, design in designs.items()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _extra_keys(analysis: Any) -> tuple[str, ...]:
    return tuple(getattr(analysis, "extra_keys", ()))


# -- running ----------------------------------------------------------------------------


def _batches(jobs: list[tuple], n_jobs: int | None, backend: str) -> list[list[tuple]]:
    """Chunks of jobs: a few per worker (balance) but not too many (overhead, file writes).

    A Dask cluster's size is not known here: unless ``n_jobs`` says, assume a large one.
    """
    if backend == "serial":
        parallel = 1
    elif n_jobs is not None:
        parallel = max(1, n_jobs)
    else:
        parallel = 64 if backend == "dask" else default_workers()
    size = max(1, min(25, math.ceil(len(jobs) / (4 * parallel))))
    return [jobs[k:k + size] for k in range(0, len(jobs), size)]


def _simulate_batch(designs: dict[str, TrialDesign], analysis: Any,
                    jobs: list[tuple[str, int, int, int]]) -> list[dict[str, Any]]:
    """Simulate and analyse a batch of jobs ``(scenario, n_per_arm, sim, seed)``."""
    sized: dict[tuple[str, int], TrialDesign] = {}
    rows = []
    with one_blas_thread():
        for scenario, n, sim, seed in jobs:
            key = (scenario, n)
            if key not in sized:
                sized[key] = dataclasses.replace(designs[scenario], n_per_arm=n)
            row = {"scenario": scenario, "n_per_arm": n, "sim": sim, "seed": seed}
            row.update(_analyse(sized[key], analysis, seed))
            rows.append(row)
    return rows


def _analyse(design: TrialDesign, analysis: Any, seed: int) -> dict[str, Any]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if hasattr(analysis, "simulate_and_analyse"):
                result = analysis.simulate_and_analyse(design, seed)
            else:
                result = analysis(simulate_trial(design, seed))
            error = ""
        except _FAILURES as exc:
            result, error = {}, f"{type(exc).__name__}: {exc}"
    output = as_result(result) if not error else {}
    messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return {**output, "error": error, "warning": " | ".join(messages)}


# -- results ----------------------------------------------------------------------------


def _columns(extra: tuple[str, ...]) -> list[str]:
    base = list(SIMULATION_COLUMNS)
    return base[:9] + [k for k in extra if k not in base] + base[9:]


def _frame(rows: list[dict[str, Any]], extra: tuple[str, ...]) -> pd.DataFrame:
    columns = _columns(extra)
    frame = pd.DataFrame(rows, columns=columns) if rows else _empty_results(extra)
    return _types(frame)


def _empty_results(extra: tuple[str, ...] = ()) -> pd.DataFrame:
    return _types(pd.DataFrame({c: [] for c in _columns(extra)}))


def _types(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if column in ("scenario", "error", "warning"):
            out[column] = out[column].fillna("").astype(str)
        elif column in ("n_per_arm", "sim", "seed"):
            out[column] = out[column].astype("int64")
        else:
            out[column] = out[column].astype("float64")
    return out


def _tidy(frame: pd.DataFrame, sizes: list[int], n_sims: int,
          designs: dict[str, TrialDesign]) -> pd.DataFrame:
    """The asked-for simulations, sorted; a results file may hold more (kept out)."""
    frame = frame.drop_duplicates(["scenario", "n_per_arm", "sim"])
    keep = (frame["scenario"].isin(list(designs)) & frame["n_per_arm"].isin(sizes)
            & (frame["sim"] < n_sims))
    frame = frame[keep.to_numpy(bool)]
    order = frame["scenario"].map({name: k for k, name in enumerate(SCENARIOS)})
    frame = frame.assign(_order=order).sort_values(["_order", "n_per_arm", "sim"])
    return frame.drop(columns="_order").reset_index(drop=True)


def _append_results(path: Path, rows: list[dict[str, Any]], fingerprint: str,
                    extra: tuple[str, ...]) -> None:
    frame = _frame(rows, extra)
    frame.insert(0, "fingerprint", fingerprint)
    frame["complete"] = 1  # last on the line: a line cut short by a crash lacks it
    new = not path.exists() or path.stat().st_size == 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, header=new, index=False, lineterminator="\n")


def _read_results(path: Path, fingerprint: str) -> pd.DataFrame:
    if not path.exists() or path.stat().st_size == 0:
        return _empty_results()
    # pandas reads back the shortest repr it writes exactly (a test checks it)
    # only empty cells are missing: "null" is a scenario, "NA" could be in a message
    frame = pd.read_csv(path, on_bad_lines="skip", keep_default_na=False, na_values=[""],
                        dtype={"fingerprint": str, "scenario": str, "error": str,
                               "warning": str})
    required = {"fingerprint", *SIMULATION_COLUMNS, "complete"}
    if not required <= set(frame.columns):
        raise ValueError(f"results_file {path}: not a ketex power results file (columns "
                         f"{', '.join(sorted(required - set(frame.columns)))} missing)")
    frame = frame[frame["complete"] == 1]
    others = sorted(set(frame["fingerprint"]) - {fingerprint})
    if others:
        raise ValueError(
            f"results_file {path}: holds simulations of another design, analysis or seed "
            f"(fingerprint {others[0]}, this run {fingerprint}); give another file, or "
            "delete it to start again")
    return _types(frame.drop(columns=["fingerprint", "complete"]))


# -- summary ----------------------------------------------------------------------------


def _truths(designs: dict[str, TrialDesign], analysis: Any, true_effect: float | None,
            seed: int) -> dict[str, tuple[float, float]]:
    truths = {}
    for scenario, design in designs.items():
        if scenario == "null":
            truths[scenario] = (float(getattr(analysis, "null_value", float("nan"))), 0.0)
        elif true_effect is not None:
            truths[scenario] = (float(true_effect), 0.0)
        elif hasattr(analysis, "true_value"):
            with one_blas_thread():
                value, mcse = analysis.true_value(design, seed)
            truths[scenario] = (float(value), float(mcse))
        else:
            truths[scenario] = (float("nan"), float("nan"))
    return truths


def _summarise(simulations: pd.DataFrame, truths: dict[str, tuple[float, float]],
               alpha: float, confidence_level: float) -> pd.DataFrame:
    z = stats.norm.ppf(0.5 + confidence_level / 2)
    rows = []
    nan = float("nan")
    for key, group in simulations.groupby(["scenario", "n_per_arm"], sort=False):
        scenario, n = cast(tuple[str, int], key)
        ok = group[(group["error"] == "").to_numpy(bool) & group["p_value"].notna().to_numpy(bool)]
        m = len(ok)
        rejected = int((ok["p_value"].to_numpy(float) < alpha).sum())
        finite = ok[np.isfinite(ok["estimate"].to_numpy(float))
                    & np.isfinite(ok["se"].to_numpy(float))]
        k = len(finite)
        truth, truth_mcse = truths[scenario]
        estimate = finite["estimate"].to_numpy(float)
        low = finite["ci_low"].fillna(finite["estimate"] - z * finite["se"]).to_numpy(float)
        high = finite["ci_high"].fillna(finite["estimate"] + z * finite["se"]).to_numpy(float)
        covered = int(((low <= truth) & (truth <= high)).sum())
        spread = float(np.std(estimate, ddof=1)) if k > 1 else nan
        coverage = k > 0 and not math.isnan(truth)
        rows.append({
            "scenario": scenario,
            "n_per_arm": int(n),
            "n_sims": m,
            "n_failed": len(group) - m,
            "n_estimated": k,
            "rejection_rate": rejected / m if m else nan,
            "rejection_ci_low": wilson_interval(rejected, m, confidence_level)[0],
            "rejection_ci_high": wilson_interval(rejected, m, confidence_level)[1],
            "true_effect": truth,
            "true_effect_mcse": truth_mcse,
            "mean_estimate": float(estimate.mean()) if k else nan,
            "bias": float(estimate.mean()) - truth if k else nan,
            "bias_mcse": spread / math.sqrt(k) if k else nan,
            "empirical_se": spread,
            "mean_se": float(finite["se"].mean()) if k else nan,
            "coverage": covered / k if coverage else nan,
            "coverage_ci_low": (wilson_interval(covered, k, confidence_level)[0]
                                if coverage else nan),
            "coverage_ci_high": (wilson_interval(covered, k, confidence_level)[1]
                                 if coverage else nan),
        })
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


# -- figure -----------------------------------------------------------------------------


def plot_power(result: PowerResult, ax: Axes | None = None, *, target: float | None = 0.8,
               label: str | None = None, show_null: bool = True) -> Axes:
    """Power curve: rejection rate against participants per arm, with Monte Carlo CIs.

    Parameters
    ----------
    result : PowerResult
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None. Give the same Axes to compare analyses
        or designs.
    target : float, optional
        Draw the target power as a dashed line (None: no line).
    label : str, optional
        Legend label of the power curve (default ``"power"``).
    show_null : bool
        Also draw the type I error (null design) and the level ``alpha``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"scenario": ["design", "design"], "n_per_arm": [30, 50],
    ...                         "rejection_rate": [0.5, 0.8], "rejection_ci_low": [0.45, 0.76],
    ...                         "rejection_ci_high": [0.55, 0.84]})
    >>> result = PowerResult(summary, pd.DataFrame(), 0.05, 0.95, "example")
    >>> ax = plot_power(result)
    >>> ax.get_xlabel()
    'participants per arm'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    design = result.summary[result.summary["scenario"] == "design"]
    line = _curve(ax, design, label or "power", "o")
    level = int(round(100 * result.confidence_level))
    if show_null:
        null = result.summary[result.summary["scenario"] == "null"]
        if len(null):
            _curve(ax, null, f"type I error{f' ({label})' if label else ''}", "s",
                   color=line.get_color(), linestyle=":")
        ax.axhline(result.alpha, color="grey", linestyle=":", linewidth=1)
    if target is not None:
        ax.axhline(target, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("participants per arm")
    ax.set_ylabel(f"rejection rate ({level}% Monte Carlo CI)")
    ax.set_ylim(0, 1)
    ax.legend(loc="best")
    return ax


def _curve(ax, rows: pd.DataFrame, label: str, marker: str, **style: Any):
    rate = rows["rejection_rate"].to_numpy(float)
    error = np.vstack([rate - rows["rejection_ci_low"].to_numpy(float),
                       rows["rejection_ci_high"].to_numpy(float) - rate])
    error = np.clip(np.nan_to_num(error), 0.0, None)  # a summary read back from a file
    container = ax.errorbar(rows["n_per_arm"].to_numpy(), rate, yerr=error, marker=marker,
                            capsize=3, label=label, **style)
    return container.lines[0]
