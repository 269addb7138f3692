"""The GEE computations: families, working correlations, the fitting loop, sandwiches.

The algorithm is geepack's (Halekoh, Hojsgaard and Yan 2006; Yan and Fine 2004), so
that the numbers agree with ``geepack::geeglm``. Each iteration

1. takes one Fisher-scoring step for ``beta`` with the working covariance
   ``V_i = phi A_i^1/2 R_i(alpha) A_i^1/2`` held fixed;
2. sets the scale to the mean squared Pearson residual, ``phi = sum r_ij^2 / N``;
3. takes one Gauss-Newton step for ``alpha``: least squares of the products of
   standardised residuals ``r_ij r_ik / phi`` on their working correlations, over
   every pair of visits of every cluster (for the exchangeable and unstructured
   structures this step lands on the moment estimate itself);

until no parameter changes by more than the tolerance.

Rows are sorted by cluster, then visit; clusters that share the same set of visits
share ``R_i``, so the work is batched by visit pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "CORRELATIONS",
    "FAMILIES",
    "Clusters",
    "Family",
    "Fit",
    "WorkingCorrelation",
    "fit_gee",
    "sandwich",
]


# ------------------------------------------------------------------ families
@dataclass(frozen=True)
class Family:
    """A GLM family with its canonical link."""

    name: str
    link: str

    def mean(self, eta: np.ndarray) -> np.ndarray:
        if self.link == "logit":
            return special.expit(eta)
        if self.link == "log":
            return np.exp(eta)
        return eta

    def mean_derivative(self, eta: np.ndarray) -> np.ndarray:
        """d mu / d eta."""
        if self.link == "logit":
            mu = special.expit(eta)
            return mu * (1.0 - mu)
        if self.link == "log":
            return np.exp(eta)
        return np.ones_like(eta)

    def variance(self, mu: np.ndarray) -> np.ndarray:
        if self.name == "binomial":
            return mu * (1.0 - mu)
        if self.name == "poisson":
            return mu
        return np.ones_like(mu)

    def valid(self, mu: np.ndarray) -> bool:
        if not np.all(np.isfinite(mu)):
            return False
        if self.name == "binomial":
            return bool(np.all((mu > 0) & (mu < 1)))
        if self.name == "poisson":
            return bool(np.all(mu > 0))
        return True

    def link_function(self, mu: np.ndarray) -> np.ndarray:
        if self.link == "logit":
            return special.logit(mu)
        if self.link == "log":
            return np.log(mu)
        return mu


FAMILIES = {
    "binomial": Family("binomial", "logit"),
    "poisson": Family("poisson", "log"),
    "gaussian": Family("gaussian", "identity"),
}


# --------------------------------------------------------------- clusters
@dataclass(frozen=True)
class Clusters:
    """The data sorted by cluster then visit, grouped by visit pattern.

    ``visit`` holds 0-based visit codes (positions among the trial's ordered visits,
    or positions within the cluster when no time column was given).
    """

    x: np.ndarray
    y: np.ndarray
    cluster: np.ndarray  # cluster code of each row, 0..K-1, non-decreasing
    visit: np.ndarray
    n_visits: int
    patterns: tuple  # ((visit codes tuple, row index matrix (m, s), cluster codes (m,)), ...)
    pair_rows: np.ndarray  # (n_pairs, 2) rows of every within-cluster pair j < k
    pair_visits: np.ndarray  # (n_pairs, 2) their visit codes

    @classmethod
    def build(cls, x, y, cluster, visit, n_visits) -> Clusters:
        starts = np.flatnonzero(np.r_[True, cluster[1:] != cluster[:-1]])
        ends = np.r_[starts[1:], len(cluster)]
        by_pattern: dict[tuple, list[int]] = {}
        for start, end in zip(starts, ends, strict=True):
            by_pattern.setdefault(tuple(visit[start:end].tolist()), []).append(int(start))
        patterns = []
        pair_rows = []
        for codes, cluster_starts in by_pattern.items():
            rows = np.asarray(cluster_starts)[:, None] + np.arange(len(codes))[None, :]
            patterns.append((codes, rows, cluster[rows[:, 0]]))
            first, second = np.triu_indices(len(codes), k=1)
            if first.size:
                pair_rows.append(
                    np.stack([rows[:, first].ravel(), rows[:, second].ravel()], axis=1)
                )
        pairs = np.vstack(pair_rows) if pair_rows else np.zeros((0, 2), dtype=np.int64)
        return cls(
            x=x,
            y=y,
            cluster=cluster,
            visit=visit,
            n_visits=n_visits,
            patterns=tuple(patterns),
            pair_rows=pairs,
            pair_visits=visit[pairs] if len(pairs) else np.zeros((0, 2), dtype=np.int64),
        )

    @property
    def n_clusters(self) -> int:
        return int(self.cluster[-1]) + 1 if len(self.cluster) else 0


# ------------------------------------------------------ working correlation
@dataclass(frozen=True)
class WorkingCorrelation:
    """A working correlation ``R(alpha)`` over visit codes 0..n_visits-1 (geepack's).

    - ``independence``: ``R = I``, no parameter;
    - ``exchangeable``: one ``alpha``, the correlation of every pair;
    - ``ar1``: ``alpha ** |j - k|`` with ``j, k`` the visit codes (visit positions,
      not calendar times: geepack's waves);
    - ``unstructured``: one parameter per pair of visits, in the order
      (1,2), (1,3), ..., (2,3), ...
    """

    name: str
    n_visits: int

    @property
    def n_params(self) -> int:
        if self.name == "independence":
            return 0
        if self.name == "unstructured":
            return self.n_visits * (self.n_visits - 1) // 2
        return 1

    def pair_index(self, visits: np.ndarray) -> np.ndarray:
        """Parameter index of each (j, k) pair, j < k (unstructured)."""
        j, k = visits[:, 0], visits[:, 1]
        n = self.n_visits
        return j * n - j * (j + 1) // 2 + (k - j - 1)

    def pair_correlation(self, alpha: np.ndarray, visits: np.ndarray):
        """Working correlation of each pair and its derivative in ``alpha``."""
        n_pairs = visits.shape[0]
        if self.name == "exchangeable":
            return np.full(n_pairs, alpha[0]), np.ones((n_pairs, 1))
        if self.name == "ar1":
            lag = np.abs(visits[:, 1] - visits[:, 0]).astype(float)
            value = alpha[0] ** lag
            # geepack's derivative, with lag 1 written out so that alpha = 0 works
            slope = np.where(lag == 1.0, 1.0, lag * alpha[0] ** np.maximum(lag - 1.0, 0.0))
            return value, slope[:, None]
        if self.name == "unstructured":
            index = self.pair_index(visits)
            design = np.zeros((n_pairs, self.n_params))
            design[np.arange(n_pairs), index] = 1.0
            return alpha[index], design
        return np.zeros(n_pairs), np.zeros((n_pairs, 0))

    def matrix(self, alpha: np.ndarray, codes) -> np.ndarray:
        """``R`` over the visit codes ``codes`` (in order)."""
        codes = np.asarray(codes)
        size = len(codes)
        out = np.eye(size)
        if self.name == "independence" or size < 2:
            return out
        first, second = np.triu_indices(size, k=1)
        value, _ = self.pair_correlation(alpha, np.stack([codes[first], codes[second]], axis=1))
        out[first, second] = value
        out[second, first] = value
        return out

    def parameter_names(self, labels) -> list[str]:
        if self.name == "independence":
            return []
        if self.name != "unstructured":
            return ["alpha"]
        first, second = np.triu_indices(self.n_visits, k=1)
        return [f"{labels[j]}:{labels[k]}" for j, k in zip(first, second, strict=True)]


CORRELATIONS = ("exchangeable", "ar1", "unstructured", "independence")


# -------------------------------------------------------------------- fit
@dataclass(frozen=True)
class Fit:
    beta: np.ndarray
    alpha: np.ndarray
    scale: float
    converged: bool
    iterations: int
    eta: np.ndarray


def _standardised(family: Family, clusters: Clusters, beta: np.ndarray):
    """``A^-1/2 dmu/deta X`` and Pearson residuals ``(y - mu) / sqrt(v(mu))``."""
    eta = clusters.x @ beta
    mu = family.mean(eta)
    root_variance = np.sqrt(family.variance(mu))
    derivative = (family.mean_derivative(eta) / root_variance)[:, None] * clusters.x
    pearson = (clusters.y - mu) / root_variance
    return derivative, pearson, eta


def _beta_step(family, clusters, correlation, beta, alpha) -> np.ndarray:
    derivative, pearson, _ = _standardised(family, clusters, beta)
    p = clusters.x.shape[1]
    hessian, gradient = np.zeros((p, p)), np.zeros(p)
    for codes, rows, _ in clusters.patterns:
        r_inv = np.linalg.inv(correlation.matrix(alpha, codes))
        d = derivative[rows]  # (m, s, p)
        e = pearson[rows]  # (m, s)
        hessian += np.einsum("msp,st,mtq->pq", d, r_inv, d)
        gradient += np.einsum("msp,st,mt->p", d, r_inv, e)
    return np.linalg.solve(hessian, gradient)


def _alpha_step(correlation, clusters, pearson, scale, alpha) -> np.ndarray:
    if correlation.n_params == 0 or clusters.pair_rows.shape[0] == 0:
        return np.zeros(correlation.n_params)
    standardised = pearson / np.sqrt(scale)
    products = standardised[clusters.pair_rows[:, 0]] * standardised[clusters.pair_rows[:, 1]]
    value, slope = correlation.pair_correlation(alpha, clusters.pair_visits)
    return np.linalg.solve(slope.T @ slope, slope.T @ (products - value))


def fit_gee(
    family: Family,
    clusters: Clusters,
    correlation: WorkingCorrelation,
    beta_start: np.ndarray,
    max_iterations: int,
    tolerance: float,
) -> Fit:
    """Solve the estimating equations (geepack's iteration, see the module notes)."""
    beta = beta_start.copy()
    alpha = np.zeros(correlation.n_params)
    _, pearson, _ = _standardised(family, clusters, beta)
    scale = float(np.mean(pearson**2))
    converged = False
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        try:
            step = _beta_step(family, clusters, correlation, beta, alpha)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        new_beta = beta + step
        # halve the step while the means leave their range (as geepack); an iteration
        # that needed halving does not count as converged (it is how a separated
        # binary outcome, with infinite estimates, would otherwise stop)
        halved = 0
        while not family.valid(family.mean(clusters.x @ new_beta)) and halved < 60:
            step = step / 2.0
            new_beta = beta + step
            halved += 1
        beta = new_beta
        _, pearson, _ = _standardised(family, clusters, beta)
        new_scale = float(np.mean(pearson**2))
        scale_change = abs(new_scale - scale)
        scale = new_scale
        try:
            alpha_step = _alpha_step(correlation, clusters, pearson, scale, alpha)
        except np.linalg.LinAlgError:
            break
        alpha = alpha + alpha_step
        change = max(
            float(np.max(np.abs(step))),
            scale_change,
            float(np.max(np.abs(alpha_step), initial=0.0)),
        )
        if not np.isfinite(change):
            break
        if change <= tolerance and not halved:
            converged = True
            break
    return Fit(beta, alpha, scale, converged, iterations, clusters.x @ beta)


def glm_start(family: Family, x: np.ndarray, y: np.ndarray, max_iterations: int = 50):
    """Independence GLM estimates by IRLS (geepack starts from ``glm.fit``)."""
    if family.name == "binomial":
        mu = (y + 0.5) / 2.0
    elif family.name == "poisson":
        mu = y + 0.1
    else:
        mu = y.astype(float)
    eta = family.link_function(mu)
    beta = np.zeros(x.shape[1])
    with np.errstate(all="ignore"):
        for _ in range(max_iterations):
            mu = family.mean(eta)
            derivative = family.mean_derivative(eta)
            weight = derivative**2 / family.variance(mu)
            working = eta + (y - mu) / derivative
            if not (np.all(np.isfinite(weight)) and np.all(np.isfinite(working))):
                break  # separation: fitted means at their bounds; start from here
            root = np.sqrt(weight)
            new_beta = np.linalg.lstsq(root[:, None] * x, root * working, rcond=None)[0]
            if np.max(np.abs(new_beta - beta)) < 1e-10:
                return new_beta
            beta = new_beta
            eta = x @ beta
    return beta


# --------------------------------------------------------------- sandwiches
def sandwich(family, clusters, correlation, fit: Fit) -> dict[str, np.ndarray]:
    """Model-based, robust, Mancl-DeRouen and Kauermann-Carroll covariances of beta.

    In the scale standardised by a square root ``L_i`` of ``V_i`` (``tilde D_i =
    L_i^-1 D_i``, ``tilde r_i = L_i^-1 r_i``), with ``B = sum tilde D_i' tilde D_i`` and
    the cluster leverage ``H_i = tilde D_i B^-1 tilde D_i'``:

    - model: ``B^-1``;
    - robust (Liang-Zeger): ``B^-1 [sum tilde D_i' tilde r_i tilde r_i' tilde D_i] B^-1``;
    - Mancl-DeRouen: ``tilde r_i`` replaced by ``(I - H_i)^-1 tilde r_i``;
    - Kauermann-Carroll: by ``(I - H_i)^-1/2 tilde r_i`` (symmetric root).

    Each is invariant to the choice of ``L_i``; Mancl-DeRouen equals the usual
    ``D_i' V_i^-1 (I - D_i B^-1 D_i' V_i^-1)^-1 r_i`` form.
    """
    derivative, pearson, _ = _standardised(family, clusters, fit.beta)
    root_scale = np.sqrt(fit.scale)
    standard: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    p = clusters.x.shape[1]
    bread = np.zeros((p, p))
    for codes, rows, cluster_codes in clusters.patterns:
        # L^-1 with R = L L' (visit patterns are small: a few visits)
        lower_inv = np.linalg.inv(np.linalg.cholesky(correlation.matrix(fit.alpha, codes)))
        d_std = np.einsum("ts,msp->mtp", lower_inv, derivative[rows]) / root_scale
        e_std = np.einsum("ts,ms->mt", lower_inv, pearson[rows]) / root_scale
        bread += np.einsum("msp,msq->pq", d_std, d_std)
        standard.append((d_std, e_std, cluster_codes))
    bread_inv = np.linalg.inv(bread)
    bread_inv = (bread_inv + bread_inv.T) / 2.0
    meats = {
        "robust": np.zeros((p, p)),
        "mancl-derouen": np.zeros((p, p)),
        "kauermann-carroll": np.zeros((p, p)),
    }
    singular: list[int] = []
    for d_std, e_std, cluster_codes in standard:
        size = d_std.shape[1]
        leverage = np.einsum("msp,pq,mtq->mst", d_std, bread_inv, d_std)
        complement = np.eye(size)[None, :, :] - leverage
        values, vectors = np.linalg.eigh(complement)
        bad = values.min(axis=1) <= 1e-10
        if bad.any():
            singular.extend(cluster_codes[bad].tolist())
            values = np.where(values <= 1e-10, np.nan, values)
        projected = np.einsum("mst,ms->mt", vectors, e_std)  # V' e
        md_resid = np.einsum("mst,mt->ms", vectors, projected / values)
        kc_resid = np.einsum("mst,mt->ms", vectors, projected / np.sqrt(values))
        for name, resid in (
            ("robust", e_std),
            ("mancl-derouen", md_resid),
            ("kauermann-carroll", kc_resid),
        ):
            score = np.einsum("msp,ms->mp", d_std, resid)
            meats[name] += score.T @ score
    out = {"model": bread_inv}
    for name, meat in meats.items():
        if singular:
            out[name] = np.full((p, p), np.nan)
        else:
            covariance = bread_inv @ meat @ bread_inv
            out[name] = (covariance + covariance.T) / 2.0
    out["singular_clusters"] = np.asarray(sorted(set(singular)), dtype=np.int64)
    return out
