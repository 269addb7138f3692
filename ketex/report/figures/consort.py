"""CONSORT flow diagram, computed from the data."""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.patches import FancyBboxPatch

from ketex.report.figures._common import styled
from ketex.report.style import new_figure
from ketex.study.trial import Trial

__all__ = ["consort_counts", "plot_consort"]


def consort_counts(trial: Trial) -> pd.DataFrame:
    """The numbers of a CONSORT flow diagram, per arm.

    Every participant of an arm falls in exactly one row of each stage:

    - ``allocation``: ``received allocated infusions`` (at least one infusion) or
      ``did not receive allocated infusions``; for an arm whose protocol prescribes no
      treatment, ``allocated`` (the box then shows the count only);
    - ``follow-up``: ``assessed at <primary visit>`` (an analysed primary-scale total
      there), else ``discontinued before <primary visit>`` (a discontinuation event
      before the end of the visit's window), else ``missed <primary visit>``;
    - ``analysis``: ``included in the primary MMRM`` (a baseline and at least one
      post-baseline total at the MMRM's visits) or ``excluded from the primary MMRM``.

    Screening and eligibility are not in the five tables, so the diagram starts at
    randomisation.

    Returns
    -------
    pandas.DataFrame
        ``arm, stage, status, n``; the rows of a stage add up to the arm's total.

    Examples
    --------
    >>> import ketex
    >>> c = consort_counts(ketex.load_trial(ketex.sample_study_path()))
    >>> c[c["stage"] == "follow-up"].groupby("arm", sort=False)["n"].sum().tolist()
    [40, 40]
    """
    from ketex.report.analysis import mmrm_dataset

    protocol = trial.protocol
    primary = protocol.endpoints.primary_visit
    ids = trial.participants["participant_id"].astype(str)
    arm = trial.participants["arm"].astype(str)
    infused = ids.isin(set(trial.infusions["participant_id"].astype(str)))
    ds = mmrm_dataset(trial)
    at_primary = set(ds.loc[(ds["AVISIT"].astype(str) == primary) & ds["AVAL"].notna(),
                            "USUBJID"].astype(str))  # fmt: skip
    events = trial.events
    window_end = next(v.window[1] for v in protocol.visits if v.name == primary)
    stops = events[(events["event"] == "discontinuation") & (events["day"] <= window_end)]
    stopped = set(stops["participant_id"].astype(str))
    analysed = set(ds.loc[ds["CHG"].notna(), "USUBJID"].astype(str))
    follow = ids.map(lambda p: f"assessed at {primary}" if p in at_primary else
                     f"discontinued before {primary}" if p in stopped else f"missed {primary}")
    stages = {
        "randomisation": pd.Series("randomised", index=ids.index),
        "allocation": infused.map({True: "received allocated infusions",
                                   False: "did not receive allocated infusions"}),
        "follow-up": follow,
        "analysis": ids.isin(analysed).map({True: "included in the primary MMRM",
                                            False: "excluded from the primary MMRM"}),
    }  # fmt: skip
    order = {
        "allocation": ["received allocated infusions", "did not receive allocated infusions"],
        "follow-up": [f"assessed at {primary}", f"discontinued before {primary}",
                      f"missed {primary}"],
        "analysis": ["included in the primary MMRM", "excluded from the primary MMRM"],
        "randomisation": ["randomised"],
    }  # fmt: skip
    from ketex.derive.analysis import arm_order

    rows = []
    for code in arm_order(protocol):  # the reference arm first
        in_arm = arm == code
        for stage, status in stages.items():
            if stage == "allocation" and not protocol.arm(code).treatments:
                rows.append({"arm": code, "stage": stage, "status": "allocated",
                             "n": int(in_arm.sum())})
                continue
            counts = status[in_arm].value_counts()
            for name in order[stage]:
                rows.append({"arm": code, "stage": stage, "status": name,
                             "n": int(counts.get(name, 0))})
    return pd.DataFrame(rows)


def _line_height(ax) -> float:
    """A 6.5 pt text line (with spacing, ~3.5 mm) in axes fraction."""
    height_mm = ax.get_position().height * ax.figure.get_figheight() * 25.4
    return 3.5 / height_mm


def _box(ax, x, top, w, title, body, *, gid=None) -> float:
    """Draw a box hanging from ``top``; returns its bottom."""
    line = _line_height(ax)
    title_lines = textwrap.wrap(title, 46)
    h = line * (len(title_lines) + len(body)) + 0.7 * line
    ax.add_patch(FancyBboxPatch((x - w / 2, top - h), w, h, boxstyle="round,pad=0.004",
                                facecolor="white", edgecolor="0.2", linewidth=0.6))  # fmt: skip
    ax.text(x - w / 2 + 0.012, top - 0.4 * line, "\n".join(title_lines), ha="left", va="top",
            fontweight="bold", fontsize=6.5, linespacing=1.3, gid=gid)  # fmt: skip
    if body:
        ax.text(x - w / 2 + 0.012, top - 0.4 * line - line * len(title_lines), "\n".join(body),
                ha="left", va="top", fontsize=6.2, linespacing=1.45)  # fmt: skip
    return top - h


def _arrow(ax, x0, y0, x1, y1):
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                arrowprops={"arrowstyle": "-|>", "color": "0.2", "linewidth": 0.6,
                            "mutation_scale": 6})  # fmt: skip


@styled
def plot_consort(trial: Trial, *, ax=None, labels: dict[str, str] | None = None):
    """CONSORT flow diagram from randomisation to analysis, one column per arm.

    Parameters
    ----------
    trial : Trial
    ax : matplotlib.axes.Axes, optional
        Default: a new 175 mm wide figure.
    labels : mapping, optional
        Arm labels (default: the protocol's).

    Returns
    -------
    matplotlib.axes.Axes
        Box titles carry ``gid = "consort:<arm>:<stage>"`` (``"consort:all:randomised"``
        for the top box); the numbers are those of :func:`consort_counts`.

    Examples
    --------
    >>> import ketex
    >>> ax = plot_consort(ketex.load_trial(ketex.sample_study_path()))
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "consort:all:randomised"]
    ['Randomised (n = 80)']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    counts = consort_counts(trial)
    arms = list(dict.fromkeys(counts["arm"]))  # the reference arm first
    names = {a.code: a.label or a.code for a in trial.protocol.arms} | dict(labels or {})
    if ax is None:
        fig, ax = new_figure("double", 68)
        fig.set_layout_engine("none")
        ax.set_position((0.01, 0.01, 0.98, 0.98))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    total = int(counts[counts["stage"] == "randomisation"]["n"].sum())
    bottom = _box(ax, 0.5, 0.99, 0.26, f"Randomised (n = {total})", [],
                  gid="consort:all:randomised")  # fmt: skip
    width = min(0.9 / len(arms), 0.42)
    centres = [(i + 0.5) / len(arms) for i in range(len(arms))]
    titles = {"allocation": "Allocated to {label} (n = {n})", "follow-up": "Follow-up",
              "analysis": "Analysis"}  # fmt: skip
    for code, x in zip(arms, centres, strict=True):
        rows = counts[counts["arm"] == code]
        n = int(rows.loc[rows["stage"] == "randomisation", "n"].sum())
        top = bottom - 0.06
        _arrow(ax, 0.5, bottom, x, top)
        for stage in ("allocation", "follow-up", "analysis"):
            part = rows[rows["stage"] == stage]
            body = [f"{r.status[0].upper()}{r.status[1:]} (n = {r.n})"
                    for r in part.itertuples() if r.status != "allocated"]
            title = titles[stage].format(label=names.get(code, code), n=n)
            end = _box(ax, x, top, width, title, body, gid=f"consort:{code}:{stage}")
            if stage != "analysis":
                _arrow(ax, x, end, x, end - 0.05)
            top = end - 0.05
    return ax
