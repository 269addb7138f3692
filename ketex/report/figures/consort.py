"""CONSORT flow diagram, computed from the data."""

from __future__ import annotations

import re

import pandas as pd
from matplotlib.font_manager import FontProperties
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


_TITLE = {"fontsize": 6.5, "fontweight": "bold", "linespacing": 1.3}
_BODY = {"fontsize": 6.2, "linespacing": 1.45}
_PAD_PT = 4.0  # inside a box, around its text
_GAP_PT = 8.0  # between the boxes of neighbouring arms
_STEP_PT = 14.0  # between the boxes of consecutive stages (room for an arrow)
_MARGIN_PT = 3.0  # around the diagram


def _wrap(text: str, width_px: float, renderer, **font) -> str:
    """``text`` broken between words into lines at most ``width_px`` wide, measured with
    ``renderer`` (a word wider than that is broken inside, with a hyphen); a count
    ``(n = 40)`` stays on one line."""
    prop = FontProperties(size=font["fontsize"], weight=font.get("fontweight", "normal"))

    def wide(s: str) -> bool:
        return renderer.get_text_width_height_descent(s, prop, ismath=False)[0] > width_px

    out: list[str] = []
    for paragraph in text.split("\n"):
        lines: list[str] = []
        for word in re.findall(r"\(n = \d+\)|\S+", paragraph):  # counts kept whole
            while len(word) > 1 and wide(word):  # hyphenate a word too wide on its own
                cut = next(i for i in range(len(word) - 1, 0, -1)
                           if not wide(word[:i] + "-"))  # fmt: skip
                lines.append(word[:cut] + "-")
                word = word[cut:]
            candidate = f"{lines[-1]} {word}" if lines else word
            if lines and not lines[-1].endswith("-") and not wide(candidate):
                lines[-1] = candidate
            else:
                lines.append(word)
        out.extend(lines or [""])
    return "\n".join(out)


class _Box:
    """A box of wrapped text: a bold title and optional body lines."""

    def __init__(self, ax, renderer, width_pt, title, body, gid):
        scale = ax.figure.dpi / 72  # points to pixels
        inner = (width_pt - 2 * _PAD_PT) * scale
        self.ax, self.width_pt = ax, width_pt
        self.title = ax.text(0, 0, _wrap(title, inner, renderer, **_TITLE), ha="left",
                             va="top", gid=gid, **_TITLE)  # fmt: skip
        self.body = None
        if body:
            text = "\n".join(_wrap(line, inner, renderer, **_BODY) for line in body)
            self.body = ax.text(0, 0, text, ha="left", va="top", **_BODY)
        self.title_pt = self.title.get_window_extent(renderer).height / scale
        self.body_pt = 0.0 if self.body is None else (
            self.body.get_window_extent(renderer).height / scale)
        self.gap_pt = 1.5 if self.body is not None else 0.0
        self.height_pt = self.title_pt + self.gap_pt + self.body_pt + 2 * _PAD_PT

    def place(self, x_pt, top_pt, height_pt):
        """Draw the frame of ``height_pt`` centred on ``x_pt`` hanging from ``top_pt``."""
        left = x_pt - self.width_pt / 2
        self.title.set_position((left + _PAD_PT, top_pt - _PAD_PT))
        if self.body is not None:
            self.body.set_position((left + _PAD_PT,
                                    top_pt - _PAD_PT - self.title_pt - self.gap_pt))
        self.ax.add_patch(FancyBboxPatch(
            (left, top_pt - height_pt), self.width_pt, height_pt,
            boxstyle="round,pad=0,rounding_size=2.5", facecolor="white", edgecolor="0.2",
            linewidth=0.6, zorder=1))  # fmt: skip
        self.title.set_zorder(2)
        if self.body is not None:
            self.body.set_zorder(2)


def _arrow(ax, x0, y0, x1, y1):
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                arrowprops={"arrowstyle": "-|>", "color": "0.2", "linewidth": 0.6,
                            "mutation_scale": 6, "shrinkA": 0, "shrinkB": 0})  # fmt: skip


@styled
def plot_consort(trial: Trial, *, ax=None, labels: dict[str, str] | None = None):
    """CONSORT flow diagram from randomisation to analysis, one column per arm.

    The arms share the width; box text is wrapped to the box width (measured with the
    figure's renderer) and the boxes are as tall as their text, so a new figure is as
    tall as the diagram needs.

    Parameters
    ----------
    trial : Trial
    ax : matplotlib.axes.Axes, optional
        Default: a new 175 mm wide figure, as tall as the diagram. The diagram is laid out
        in the given Axes' width; an Axes shorter than the diagram squeezes it vertically.
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
    own = ax is None
    if own:
        fig, ax = new_figure("double", 68)
        fig.set_layout_engine("none")
        ax.set_position((0, 0, 1, 1))
    fig = ax.figure
    ax.axis("off")
    renderer = fig.canvas.get_renderer()
    width_pt = ax.get_position().width * fig.get_figwidth() * 72
    usable = width_pt - 2 * _MARGIN_PT
    box_w = min((usable - (len(arms) - 1) * _GAP_PT) / len(arms), 0.42 * usable)
    pitch = box_w + _GAP_PT
    centres = [width_pt / 2 + (i - (len(arms) - 1) / 2) * pitch for i in range(len(arms))]
    total = int(counts[counts["stage"] == "randomisation"]["n"].sum())
    head = _Box(ax, renderer, max(box_w, min(0.3 * usable, 160.0)),
                f"Randomised (n = {total})", [], "consort:all:randomised")
    titles = {"allocation": "Allocated to {label} (n = {n})", "follow-up": "Follow-up",
              "analysis": "Analysis"}  # fmt: skip
    stages = ("allocation", "follow-up", "analysis")
    grid: dict[str, list[_Box]] = {stage: [] for stage in stages}
    for code in arms:
        rows = counts[counts["arm"] == code]
        n = int(rows.loc[rows["stage"] == "randomisation", "n"].sum())
        for stage in stages:
            part = rows[rows["stage"] == stage]
            body = [f"{r.status[0].upper()}{r.status[1:]} (n = {r.n})"
                    for r in part.itertuples() if r.status != "allocated"]
            title = titles[stage].format(label=names.get(code, code), n=n)
            grid[stage].append(_Box(ax, renderer, box_w, title, body, f"consort:{code}:{stage}"))
    heights = {stage: max(b.height_pt for b in boxes) for stage, boxes in grid.items()}
    height_pt = (2 * _MARGIN_PT + head.height_pt + 1.5 * _STEP_PT + sum(heights.values())
                 + (len(stages) - 1) * _STEP_PT)  # fmt: skip
    if own:
        fig.set_figheight(height_pt / 72)
    axes_pt = ax.get_position().height * fig.get_figheight() * 72
    ax.set_xlim(0, width_pt)
    ax.set_ylim(-max(height_pt, axes_pt), 0)
    top = -_MARGIN_PT
    head.place(width_pt / 2, top, head.height_pt)
    bottom = top - head.height_pt
    top = bottom - 1.5 * _STEP_PT
    split = bottom - 0.6 * _STEP_PT  # the head's line branches here to every arm
    if len(arms) > 1:
        ax.plot([width_pt / 2, width_pt / 2], [bottom, split], color="0.2", linewidth=0.6)
        ax.plot([centres[0], centres[-1]], [split, split], color="0.2", linewidth=0.6)
    for x in centres:
        _arrow(ax, x, split if len(arms) > 1 else bottom, x, top)
    for stage in stages:
        for box, x in zip(grid[stage], centres, strict=True):
            box.place(x, top, heights[stage])
            if stage != stages[-1]:
                _arrow(ax, x, top - heights[stage], x, top - heights[stage] - _STEP_PT)
        top -= heights[stage] + _STEP_PT
    return ax
