"""Sensitivity plot of a mediated effect against the error correlation rho."""

from __future__ import annotations

from ketex.report.figures._common import axes_or_new, styled
from ketex.report.style import OKABE_ITO

__all__ = ["plot_mediation_sensitivity"]


@styled
def plot_mediation_sensitivity(result, *, effect: str = "pnie", ax=None,
                               ylabel: str = "Mediated effect"):
    """The mediated effect and its pointwise CI as a function of rho (medsens-style).

    Parameters
    ----------
    result : ketex.MediationSensitivity
        From :func:`ketex.mediation_sensitivity`.
    effect : {"pnie", "tnie"}
        The mediated effect with the exposure at ``a0`` or at ``a1``.
    ax : matplotlib.axes.Axes, optional
    ylabel : str

    Returns
    -------
    matplotlib.axes.Axes
        The curve (``gid = "estimate"``), the band (``gid = "ci"``), the line of no
        effect and a dashed vertical line at the rho where the effect is zero
        (``gid = "rho_at_zero"``).

    Examples
    --------
    >>> import numpy as np, pandas as pd, ketex
    >>> rng = np.random.default_rng(1)
    >>> a = rng.integers(0, 2, 200)
    >>> m = 0.5 * a + rng.normal(size=200)
    >>> df = pd.DataFrame({"a": a, "m": m, "y": 0.3 * a + 0.8 * m + rng.normal(size=200)})
    >>> sens = ketex.mediation_sensitivity(df, exposure="a", mediator="m", outcome="y")
    >>> ax = plot_mediation_sensitivity(sens)
    >>> ax.get_xlabel()
    'Correlation of the mediator and outcome errors (rho)'
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    if effect not in ("pnie", "tnie"):
        raise ValueError(f"effect must be 'pnie' or 'tnie', got {effect!r}.")
    rows = result.curve[result.curve["effect"] == effect].sort_values("rho")
    ax = axes_or_new(ax, "single")
    ax.fill_between(rows["rho"], rows["ci_low"], rows["ci_high"], color=OKABE_ITO["blue"],
                    alpha=0.25, linewidth=0, gid="ci")
    ax.plot(rows["rho"], rows["estimate"], color=OKABE_ITO["blue"], gid="estimate")
    ax.axhline(0.0, color=OKABE_ITO["black"], linewidth=0.6)
    zero = result.rho_at_zero[effect]
    ax.axvline(zero, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=0.8,
               gid="rho_at_zero")
    ax.annotate(f"rho = {zero:.2f}", (zero, 0.0), xytext=(4, 4), textcoords="offset points",
                fontsize="small")
    ax.set_xlabel("Correlation of the mediator and outcome errors (rho)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(-1.0, 1.0)
    return ax
