"""The Cox partial likelihood (Efron or Breslow ties, strata, (start, stop] data).

Risk-set sums are cumulative sums: for an event time ``t`` of stratum ``s`` the risk set
is ``{i in s: start_i < t <= stop_i}``, whose sum is (sum over ``stop >= t``) minus (sum
over ``start >= t``). Each event time with ``d`` tied events is expanded into ``d``
terms, the ``k``-th with the tied events' own risk down-weighted by ``k / d`` (Efron;
0 for Breslow), so that every formula is a vectorised sum over these terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

__all__ = ["RiskSets", "linear_predictor", "newton_raphson"]


@dataclass(frozen=True)
class RiskSets:
    """Index arrays that turn per-row values into sums over risk sets (fixed per data)."""

    n: int
    event_time: np.ndarray  # (m,) distinct event times, by stratum then time
    event_stratum: np.ndarray  # (m,)
    n_dead: np.ndarray  # (m,) events at each
    death_rows: np.ndarray  # rows with an event
    death_term: np.ndarray  # (n_deaths,) the event time of each
    stop_order: np.ndarray  # rows by (stratum, stop descending)
    stop_lo: np.ndarray  # (m,) first position of the stratum in stop_order
    stop_hi: np.ndarray  # (m,) end of the rows with stop >= t
    start_order: np.ndarray | None
    start_lo: np.ndarray | None
    start_hi: np.ndarray | None
    row_lo: np.ndarray  # (n,) event-time positions: times <= start (or stratum start)
    row_hi: np.ndarray  # (n,) event-time positions: times <= stop
    term_time: np.ndarray  # (n_deaths,) event time of each expanded Efron term
    term_fraction: np.ndarray  # (n_deaths,) k / d (0 for Breslow)

    @classmethod
    def build(cls, stop, start, event, strata, ties: str) -> RiskSets:
        n = stop.size
        event_time, event_stratum, n_dead = [], [], []
        stop_order, start_order = [], []
        stop_lo, stop_hi, start_lo, start_hi = [], [], [], []
        row_lo, row_hi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        offset, event_offset = 0, 0
        for s in np.unique(strata):
            rows = np.flatnonzero(strata == s)
            times = np.unique(stop[rows][event[rows]])
            counts = np.array([np.sum((stop[rows] == t) & event[rows]) for t in times])
            order = rows[np.argsort(-stop[rows], kind="stable")]
            sorted_stop = stop[order]
            stop_order.append(order)
            stop_lo.append(np.full(times.size, offset))
            stop_hi.append(offset + np.searchsorted(-sorted_stop, -times, side="right"))
            if start is not None:
                order = rows[np.argsort(-start[rows], kind="stable")]
                start_order.append(order)
                start_lo.append(np.full(times.size, offset))
                start_hi.append(offset + np.searchsorted(-start[order], -times, side="right"))
                row_lo[rows] = event_offset + np.searchsorted(times, start[rows], side="right")
            else:
                row_lo[rows] = event_offset
            row_hi[rows] = event_offset + np.searchsorted(times, stop[rows], side="right")
            event_time.append(times)
            event_stratum.append(np.full(times.size, s))
            n_dead.append(counts)
            offset += rows.size
            event_offset += times.size
        event_time_all = np.concatenate(event_time)
        stratum_all = np.concatenate(event_stratum)
        dead = np.concatenate(n_dead).astype(np.int64)
        death_rows = np.flatnonzero(event)
        # event time index of each death: same stratum, same time
        key = {
            (int(s), float(t)): i
            for i, (s, t) in enumerate(zip(stratum_all, event_time_all, strict=True))
        }
        death_term = np.array(
            [key[(int(strata[i]), float(stop[i]))] for i in death_rows], dtype=np.int64
        )
        term_time = np.repeat(np.arange(dead.size), dead)
        within = np.arange(term_time.size) - np.repeat(np.cumsum(dead) - dead, dead)
        fraction = within / dead[term_time] if ties == "efron" else np.zeros(term_time.size)
        counting = start is not None
        return cls(
            n=n,
            event_time=event_time_all,
            event_stratum=stratum_all,
            n_dead=dead,
            death_rows=death_rows,
            death_term=death_term,
            stop_order=np.concatenate(stop_order),
            stop_lo=np.concatenate(stop_lo),
            stop_hi=np.concatenate(stop_hi),
            start_order=np.concatenate(start_order) if counting else None,
            start_lo=np.concatenate(start_lo) if counting else None,
            start_hi=np.concatenate(start_hi) if counting else None,
            row_lo=row_lo,
            row_hi=row_hi,
            term_time=term_time,
            term_fraction=fraction,
        )

    @property
    def n_event_times(self) -> int:
        return self.event_time.size

    def risk_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (rows x k) over the risk set of each event time (m x k)."""
        total = _block_sums(values, self.stop_order, self.stop_lo, self.stop_hi)
        if self.start_order is not None:
            total -= _block_sums(values, self.start_order, self.start_lo, self.start_hi)
        return total

    def death_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over the events at each event time (m x k)."""
        out = np.zeros((self.n_event_times, values.shape[1]))
        np.add.at(out, self.death_term, values[self.death_rows])
        return out

    def row_cumulative(self, per_time: np.ndarray) -> np.ndarray:
        """For each row, the sum of ``per_time`` over the event times in its risk set."""
        cumulative = np.vstack([np.zeros((1, per_time.shape[1])), np.cumsum(per_time, axis=0)])
        return cumulative[self.row_hi] - cumulative[self.row_lo]


def _block_sums(values, order, lo, hi):
    cumulative = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values[order], axis=0)])
    return cumulative[hi] - cumulative[lo]


@dataclass(frozen=True)
class Terms:
    """Per expanded Efron term: denominator, mean, and the mean's outer-product part."""

    denominator: np.ndarray  # (T,)
    mean: np.ndarray  # (T, p)
    second: np.ndarray  # (T, p, p) weighted mean of x x'


def efron_terms(x: np.ndarray, risk: np.ndarray, sets: RiskSets) -> Terms:
    """Risk-set moments of ``x`` for every expanded term (Efron or Breslow)."""
    n, p = x.shape
    rx = risk[:, None] * x
    rxx = (rx[:, :, None] * x[:, None, :]).reshape(n, p * p)
    values = np.hstack([risk[:, None], rx, rxx])
    at_risk = sets.risk_sum(values)
    dying = sets.death_sum(values)
    t, f = sets.term_time, sets.term_fraction[:, None]
    moments = at_risk[t] - f * dying[t]
    denominator = moments[:, 0]
    mean = moments[:, 1 : p + 1] / denominator[:, None]
    second = (moments[:, p + 1 :] / denominator[:, None]).reshape(-1, p, p)
    return Terms(denominator=denominator, mean=mean, second=second)


@dataclass(frozen=True)
class Evaluation:
    loglik: float
    score: np.ndarray
    information: np.ndarray
    terms: Terms


def linear_predictor(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``x @ beta`` column by column: identical rows give bit-identical values (a BLAS
    product may not), which the concordance's tie count relies on."""
    eta = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        eta += x[:, j] * beta[j]
    return eta


def _relative_risk(x: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``eta - max(eta)`` and its exponential: the partial likelihood, means and score
    residuals do not change when every linear predictor moves by the same amount, and
    the shift keeps ``exp`` from overflowing."""
    eta = linear_predictor(x, beta)
    eta = eta - eta.max()
    return eta, np.exp(eta)


def evaluate(beta: np.ndarray, x: np.ndarray, sets: RiskSets) -> Evaluation:
    eta, risk = _relative_risk(x, beta)
    terms = efron_terms(x, risk, sets)
    deaths = sets.death_rows
    loglik = float(eta[deaths].sum() - np.log(terms.denominator).sum())
    score = x[deaths].sum(axis=0) - terms.mean.sum(axis=0)
    information = (terms.second - terms.mean[:, :, None] * terms.mean[:, None, :]).sum(axis=0)
    return Evaluation(loglik=loglik, score=score, information=information, terms=terms)


@dataclass(frozen=True)
class NewtonResult:
    beta: np.ndarray
    evaluation: Evaluation
    null: Evaluation
    iterations: int
    converged: bool
    infinite: np.ndarray  # bool per coefficient: likely tending to +/- infinity


def newton_raphson(
    x: np.ndarray, sets: RiskSets, *, max_iterations: int = 30, tolerance: float = 1e-10
) -> NewtonResult:
    """Maximise the partial likelihood from beta = 0, halving steps that lower it.

    Converged when the log-likelihood changes by less than ``tolerance`` relative (as
    R's ``coxph.control(eps)``, default 1e-9 there).
    """
    p = x.shape[1]
    beta = np.zeros(p)
    current = null = evaluate(beta, x, sets)
    converged = False
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007
        step = _solve(current.information, current.score)
        trial_beta = beta + step
        trial = evaluate(trial_beta, x, sets)
        halvings = 0
        while not np.isfinite(trial.loglik) or trial.loglik < current.loglik - 1e-12 * abs(
            current.loglik
        ):
            halvings += 1
            if halvings > 30:
                break
            trial_beta = (beta + trial_beta) / 2
            trial = evaluate(trial_beta, x, sets)
        change = abs(trial.loglik - current.loglik)
        beta, current = trial_beta, trial
        if change <= tolerance * max(abs(current.loglik), 1e-300):
            converged = True
            break
    final_step = _solve(current.information, current.score)
    infinite = (np.abs(final_step) > 1e-5) & (np.abs(final_step) > 1e-5 * np.abs(beta))
    return NewtonResult(
        beta=beta,
        evaluation=current,
        null=null,
        iterations=iterations,
        converged=converged,
        infinite=infinite,
    )


def _solve(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    try:
        return linalg.solve(matrix, vector, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        return np.linalg.lstsq(matrix, vector, rcond=None)[0]


def score_residuals(x: np.ndarray, beta: np.ndarray, sets: RiskSets) -> np.ndarray:
    """Score residuals per row (R ``residuals(fit, "score")``; Efron ties as R's coxscore).

    Row ``i`` gets ``delta_i (x_i - xbar(t_i)) - r_i sum_t h(t) (x_i - xbar(t))`` over the
    event times of its risk set, with the tied events' own terms down-weighted as in the
    Efron likelihood.
    """
    risk = _relative_risk(x, beta)[1]
    terms = efron_terms(x, risk, sets)
    m = sets.n_event_times
    hazard = 1.0 / terms.denominator
    kept = 1.0 - sets.term_fraction  # share of a tied event's own risk in each term
    p = x.shape[1]
    per_term = np.hstack(
        [hazard[:, None], hazard[:, None] * terms.mean, (kept * hazard)[:, None],
         (kept * hazard)[:, None] * terms.mean, terms.mean]
    )  # fmt: skip
    per_time = np.zeros((m, per_term.shape[1]))
    np.add.at(per_time, sets.term_time, per_term)
    h_all, m_all = per_time[:, :1], per_time[:, 1 : p + 1]
    h_own, m_own = per_time[:, p + 1 : p + 2], per_time[:, p + 2 : 2 * p + 2]
    mean_of_means = per_time[:, 2 * p + 2 :] / sets.n_dead[:, None]
    cumulative = sets.row_cumulative(np.hstack([h_all, m_all]))
    resid = -risk[:, None] * (x * cumulative[:, :1] - cumulative[:, 1:])
    d, t = sets.death_rows, sets.death_term
    resid[d] += x[d] - mean_of_means[t]
    resid[d] += risk[d, None] * (x[d] * (h_all[t] - h_own[t]) - (m_all[t] - m_own[t]))
    return resid


def schoenfeld(x: np.ndarray, beta: np.ndarray, sets: RiskSets) -> np.ndarray:
    """Schoenfeld residuals of the event rows (in ``sets.death_rows`` order)."""
    terms = efron_terms(x, _relative_risk(x, beta)[1], sets)
    means = np.zeros((sets.n_event_times, x.shape[1]))
    np.add.at(means, sets.term_time, terms.mean)
    means /= sets.n_dead[:, None]
    return x[sets.death_rows] - means[sets.death_term]


def per_time_contributions(x: np.ndarray, beta: np.ndarray, sets: RiskSets):
    """Score and information contributions of each event time (for cox.zph)."""
    terms = efron_terms(x, _relative_risk(x, beta)[1], sets)
    m, p = sets.n_event_times, x.shape[1]
    score = np.zeros((m, p))
    np.add.at(score, sets.death_term, x[sets.death_rows])
    np.add.at(score, sets.term_time, -terms.mean)
    info = np.zeros((m, p, p))
    np.add.at(info, sets.term_time, terms.second - terms.mean[:, :, None] * terms.mean[:, None, :])
    return score, info


def concordance(eta: np.ndarray, stop, start, event, strata) -> dict:
    """Harrell's concordance over risk sets (R's ``concordance`` for a Cox fit).

    For every event at ``t`` and every other row at risk at ``t`` (same stratum, not an
    event at ``t``): concordant when the event row has the larger linear predictor.
    """
    concordant = discordant = tied_x = 0.0
    tied_y = tied_xy = 0.0
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        times = np.unique(stop[rows][event[rows]])
        for t in times:
            at_risk = stop[rows] >= t
            if start is not None:
                at_risk &= start[rows] < t
            dies = at_risk & (stop[rows] == t) & event[rows]
            others = eta[rows][at_risk & ~dies]
            for value in eta[rows][dies]:
                concordant += np.sum(value > others)
                discordant += np.sum(value < others)
                tied_x += np.sum(value == others)
            dead = eta[rows][dies]
            n_dead = dead.size
            same = np.sum(dead[:, None] == dead[None, :]) - n_dead
            tied_xy += same / 2
            tied_y += n_dead * (n_dead - 1) / 2 - same / 2
    comparable = concordant + discordant + tied_x
    value = (concordant + tied_x / 2) / comparable if comparable > 0 else np.nan
    return {
        "concordance": float(value),
        "concordant": concordant,
        "discordant": discordant,
        "tied_x": tied_x,
        "tied_y": tied_y,
        "tied_xy": tied_xy,
    }
