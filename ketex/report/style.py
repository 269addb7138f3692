"""The one publication style of ketex figures.

- Colours: the Okabe-Ito palette (distinguishable with the common colour-vision
  deficiencies); arms take its colours in protocol order; continuous scales use
  ``cividis``.
- Sizes: journal column widths, 85 mm (single) and 175 mm (double); 7-8 pt text.
- Files: PDF and SVG with fonts embedded (TrueType, ``pdf.fonttype = 42``; SVG text as
  paths) and PNG at 600 dpi.

Okabe M, Ito K (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.layout_engine import PlaceHolderLayoutEngine

__all__ = [
    "DOUBLE_COLUMN_MM",
    "FIGURE_FORMATS",
    "OKABE_ITO",
    "RC",
    "SINGLE_COLUMN_MM",
    "arm_colors",
    "new_figure",
    "publication_style",
    "save_figure",
    "wrap_titles",
]

SINGLE_COLUMN_MM = 85.0
DOUBLE_COLUMN_MM = 175.0
MM_PER_INCH = 25.4
FIGURE_FORMATS = ("pdf", "svg", "png")
#: zlib levels of the written files: the same pixels and drawing operations as the
#: default level 6, written faster (a 600-dpi PNG about a fifth larger); see
#: docs/benchmarks.md.
PNG_COMPRESS_LEVEL = 1
PDF_COMPRESSION = 1

OKABE_ITO = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish green": "#009E73",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "reddish purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
_ARM_ORDER = ("blue", "vermillion", "bluish green", "reddish purple", "orange", "sky blue")

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans"],
    "font.size": 7.5,
    "axes.titlesize": 8.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 7.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "axes.prop_cycle": mpl.cycler(color=[OKABE_ITO[c] for c in _ARM_ORDER]),
    "image.cmap": "cividis",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "savefig.dpi": 600,
    "figure.dpi": 150,
}


@contextmanager
def publication_style() -> Iterator[None]:
    """Draw (and save) figures in the ketex publication style.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with publication_style():
    ...     plt.rcParams["pdf.fonttype"]
    42
    """
    # rc_context restores every setting on exit, interactive mode included; when the
    # first figure switched Jupyter's inline backend on inside, it must stay on, or
    # every later figure of the notebook is silently not shown
    interactive = mpl.is_interactive()
    try:
        with mpl.rc_context(RC):
            try:
                yield
            finally:
                interactive = mpl.is_interactive()
    finally:
        mpl.interactive(interactive)


def arm_colors(arms: Sequence[str]) -> dict[str, str]:
    """Okabe-Ito colours for arms, in order (blue, vermillion, bluish green, ...).

    Examples
    --------
    >>> arm_colors(["SINGLE", "SERIES"])
    {'SINGLE': '#0072B2', 'SERIES': '#D55E00'}
    """
    names = [_ARM_ORDER[i % len(_ARM_ORDER)] for i in range(len(arms))]
    return {str(arm): OKABE_ITO[name] for arm, name in zip(arms, names, strict=True)}


def _width_mm(width: str | float) -> float:
    if width == "single":
        return SINGLE_COLUMN_MM
    if width == "double":
        return DOUBLE_COLUMN_MM
    if isinstance(width, int | float) and width > 0:
        return float(width)
    raise ValueError(f"width must be 'single' (85 mm), 'double' (175 mm) or millimetres, "
                     f"got {width!r}.")  # fmt: skip


def new_figure(width: str | float = "single", height_mm: float | None = None,
               nrows: int = 1, ncols: int = 1, **kwargs):
    """A figure at a journal width with constrained layout, in the publication style.

    Parameters
    ----------
    width : {"single", "double"} or float
        85 mm, 175 mm, or a width in millimetres.
    height_mm : float, optional
        Default: 0.75 x the width.
    nrows, ncols, **kwargs
        Passed to :func:`matplotlib.pyplot.subplots`. With ``sharey`` (``True``,
        ``"all"``, ``"row"``) only the first column shows its y label.

    Returns
    -------
    (matplotlib.figure.Figure, Axes or array of Axes)

    Examples
    --------
    >>> fig, ax = new_figure("double", 60)
    >>> [round(v * 25.4) for v in fig.get_size_inches()]
    [175, 60]
    >>> plt.close(fig)
    """
    w = _width_mm(width)
    h = 0.75 * w if height_mm is None else float(height_mm)
    with publication_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(w / MM_PER_INCH, h / MM_PER_INCH),
                                 layout="constrained", **kwargs)  # fmt: skip
        for ax in np.atleast_1d(axes).flat:
            wrap_titles(ax)
        _hide_inner_ylabels(_grid(axes, nrows, ncols), kwargs.get("sharey", False))
    return fig, axes


def _grid(axes, nrows: int, ncols: int):
    """``subplots``' axes (one, a row, a column or a grid) as a nrows x ncols array."""
    return np.asarray(axes, dtype=object).reshape(nrows, ncols)


def wrap_titles(ax) -> None:
    """Let the titles of ``ax`` (centre, left, right) wrap at the panel's own width
    instead of running off it: a left-aligned title breaks before the next panel to its
    right (or the figure's edge), a right-aligned one before the panel to its left, a
    centred one within both; constrained layout makes room for the extra lines.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> wrap_titles(ax)
    >>> ax.set_title("b  a long title", loc="left").get_wrap()
    True
    >>> plt.close(fig)
    """
    for loc in ("center", "left", "right"):
        title = ax.set_title("", loc=loc, wrap=True)
        # matplotlib wraps at the figure's edge only; this instance measures to the panel
        title._get_wrap_line_width = partial(_panel_line_width, title, ax)


def _panel_line_width(title, ax) -> float:
    """The width (pixels) a title of ``ax`` may take: matplotlib's (to the figure edge),
    cut at the nearest panel beside ``ax`` in the direction the title runs."""
    width = type(title)._get_wrap_line_width(title)
    figure = ax.get_figure(root=False)
    if figure is None:
        return width
    box = ax.bbox
    x, _ = title.get_transform().transform(title.get_position())
    beside = [other.bbox for other in figure.axes
              if other is not ax and other.get_visible()
              and other.bbox.y0 < box.y1 and other.bbox.y1 > box.y0]  # fmt: skip
    right = min((b.x0 for b in beside if b.x0 >= box.x1 - 0.5), default=np.inf)
    left = max((b.x1 for b in beside if b.x1 <= box.x0 + 0.5), default=-np.inf)
    alignment = title.get_horizontalalignment()
    if alignment == "left":
        room = right - x
    elif alignment == "right":
        room = x - left
    else:
        room = 2 * min(right - x, x - left)
    return max(1.0, min(width, room))


def _hide_inner_ylabels(axes, sharey) -> None:
    """With a shared y axis, only the first column keeps its y label (set later or not):
    the others' label is made invisible, so it takes no room either."""
    if sharey in (True, "all", "row"):
        for row in axes:
            for ax in row[1:]:
                ax.yaxis.label.set_visible(False)


def save_figure(
    fig,
    path: str | Path,
    *,
    width: str | float | None = None,
    height_mm: float | None = None,
    formats: Sequence[str] = FIGURE_FORMATS,
    dpi: int = 600,
    freeze_layout: bool = False,
) -> list[Path]:
    """Write a figure as PDF, SVG and PNG (600 dpi) at a journal width, all from one layout.

    The figure's layout engine (constrained layout for :func:`new_figure`) runs at the
    PNG's resolution (two passes: wrapped panel titles read the previous one), the 600-dpi
    PNG is drawn with that layout, and the layout is then frozen for the other formats:
    every file has the same element positions, and the figure is laid out twice instead of
    once per format (``savefig`` with a layout engine draws the figure twice, once to lay
    it out and once to render it). Files are compressed at zlib level 1 (:data:`PNG_COMPRESS_LEVEL`,
    :data:`PDF_COMPRESSION`): the same image as matplotlib's default level, written in
    less time.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        File name without extension (an extension is replaced).
    width : {"single", "double"} or float, optional
        Resize to 85 mm, 175 mm or a width in millimetres first (height kept in
        proportion unless ``height_mm``); None keeps the figure's size.
    height_mm : float, optional
    formats : sequence of {"pdf", "svg", "png"}
    dpi : int
        Resolution of the PNG (and of the layout).
    freeze_layout : bool
        Leave the figure with the written layout (no layout engine), so that a
        later draw (an image embedded in a page, say) has the same positions as the files;
        by default the figure's layout engine is restored.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> fig, ax = new_figure()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = save_figure(fig, pathlib.Path(folder) / "demo", formats=["pdf", "png"])
    ...     [p.name for p in paths]
    ['demo.pdf', 'demo.png']
    >>> fig.get_layout_engine() is not None  # constrained layout again after saving
    True
    >>> plt.close(fig)
    """
    unknown = sorted(set(formats) - set(FIGURE_FORMATS))
    if unknown:
        raise ValueError(f"unknown figure formats {unknown}; choose from {list(FIGURE_FORMATS)}.")
    if width is not None:
        w_in, h_in = fig.get_size_inches()
        w = _width_mm(width) / MM_PER_INCH
        h = height_mm / MM_PER_INCH if height_mm is not None else h_in * w / w_in
        fig.set_size_inches(w, h)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = fig.get_layout_engine()
    live = engine is not None and not isinstance(engine, PlaceHolderLayoutEngine)
    # the PNG first: its draw is the layout's second pass, the other formats reuse it
    order = sorted(dict.fromkeys(formats), key=lambda fmt: fmt != "png")
    written = {}
    with publication_style(), mpl.rc_context({"pdf.compression": PDF_COMPRESSION}):
        try:
            if live:
                _draw_at(fig, dpi)
                if "png" not in order:
                    _draw_at(fig, dpi)
            for fmt in order:
                if live and fmt != "png":
                    _freeze(fig)
                target = path.with_suffix(f".{fmt}")
                if fmt == "png":
                    fig.savefig(target, format=fmt, dpi=dpi,
                                pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
                else:
                    fig.savefig(target, format=fmt, metadata={"Creator": "ketex"})
                written[fmt] = target
        finally:
            if live:
                fig.set_layout_engine(engine)
    if live and freeze_layout:
        _freeze(fig)
    return [written[fmt] for fmt in formats]


def _freeze(fig) -> None:
    """Keep the axes where the last layout put them: no layout engine at all (with the
    ``"none"`` placeholder engine ``savefig`` still draws the figure once more before
    rendering it, to lay it out)."""
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)


def _draw_at(fig, dpi: float) -> None:
    """Draw ``fig`` without rendering at ``dpi`` (which runs its layout engine)."""
    original = fig.dpi
    fig.dpi = dpi
    try:
        fig.draw_without_rendering()
    finally:
        fig.dpi = original
