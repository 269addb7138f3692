"""save_figure lays a figure out once (at the PNG's resolution) and writes every format
from that layout: the PDF, SVG and PNG have the same axes positions; the PNG of a figure
whose layout does not depend on the previous one is pixel for pixel what matplotlib's own
``savefig`` writes."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.layout_engine import ConstrainedLayoutEngine
from PIL import Image

from ketex.report.html import embed_png
from ketex.report.style import new_figure, publication_style, save_figure

LONG = ("b  Change from baseline in the primary score by exercise dose achieved, "
        "with a title long enough to wrap over several lines")


def _wrapped_figure():
    """Two panels, a long wrapped panel title and a legend: constrained layout moves the
    axes between formats (text measured at 72 or 600 dpi) and between passes (the
    wrapped title reads the previous layout)."""
    fig, axes = new_figure("double", 70, ncols=2)
    x = np.linspace(0, 10, 30)
    axes[0].plot(x, x**2, label="SINGLE")
    axes[0].set_ylabel("score change (points), a label of some length")
    fig.legend(loc="outside right upper")
    axes[1].scatter(x, np.sqrt(x))
    axes[1].set_title(LONG, loc="left")
    axes[1].set_xlabel("KKW per week")
    return fig


def _record_draws(fig):
    """(renderer class, axes positions) of every draw of ``fig``."""
    draws = []

    def on_draw(event):
        renderer = getattr(event.renderer, "_renderer", event.renderer)  # PDF: mixed mode
        draws.append((type(renderer).__name__,
                      np.array([ax.get_position().bounds for ax in fig.axes])))

    fig.canvas.mpl_connect("draw_event", on_draw)
    return draws


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    fig = _wrapped_figure()
    draws = _record_draws(fig)
    engine = fig.get_layout_engine()
    paths = save_figure(fig, tmp_path_factory.mktemp("fig") / "wrapped", dpi=200)
    yield fig, draws, engine, paths
    plt.close(fig)


def test_every_format_is_drawn_with_the_same_axes_positions(written):
    fig, draws, _, paths = written
    assert [p.suffix for p in paths] == [".pdf", ".svg", ".png"]
    # two layout passes (draws without rendering, the second in the PNG's savefig), then
    # one rendering per file: the PNG (Agg), the PDF and the SVG, none laid out again
    names = [name for name, _ in draws]
    assert names == ["RendererAgg"] * 3 + ["RendererPdf", "RendererSVG"]
    png = draws[2][1]
    for name, positions in draws[1:]:
        np.testing.assert_array_equal(positions, png, err_msg=name)
    np.testing.assert_array_equal([ax.get_position().bounds for ax in fig.axes], png)


def test_per_format_layout_would_move_the_axes():
    """The figure above is one where a layout per format (savefig's own) disagrees, so the
    test above can fail."""
    fig = _wrapped_figure()
    draws = _record_draws(fig)
    with publication_style():
        for fmt in ("pdf", "png"):
            fig.savefig(io.BytesIO(), format=fmt, dpi=200)
    plt.close(fig)
    pdf = [pos for name, pos in draws if name == "RendererPdf"][-1]
    png = [pos for name, pos in draws if name == "RendererAgg"][-1]
    assert np.abs(pdf - png).max() > 1e-3


def test_the_layout_engine_is_restored(written):
    fig, _, engine, _ = written
    assert fig.get_layout_engine() is engine
    assert isinstance(engine, ConstrainedLayoutEngine)


def test_a_frozen_layout_serves_the_embedded_image(tmp_path):
    fig = _wrapped_figure()
    draws = _record_draws(fig)
    save_figure(fig, tmp_path / "wrapped", formats=["png"], dpi=200, freeze_layout=True)
    assert fig.get_layout_engine() is None
    with publication_style():
        embed_png(fig, dpi=50)
    plt.close(fig)
    # two layout passes, the PNG file, the embedded image drawn once with the file's layout
    assert len(draws) == 4
    np.testing.assert_array_equal(draws[3][1], draws[2][1])


def _simple_figure():
    fig, ax = new_figure("single", 60)
    ax.plot([0, 1, 2, 3], [1, 3, 2, 4], marker="o", label="SERIES")
    ax.set_xlabel("week")
    ax.set_ylabel("score")
    ax.legend()
    return fig


def test_the_png_of_a_simple_figure_is_what_savefig_writes(tmp_path):
    """Layout-equal case: one axes, no wrapped title; matplotlib's savefig (laying out in
    its own draw, as save_figure did before) and save_figure give the same pixels."""
    fig = _simple_figure()
    (path,) = save_figure(fig, tmp_path / "simple", formats=["png"], dpi=300)
    plt.close(fig)
    fig = _simple_figure()
    with publication_style():
        reference = io.BytesIO()
        fig.savefig(reference, format="png", dpi=300)
    plt.close(fig)
    written = np.asarray(Image.open(path))
    assert written.shape[:2] == (int(60 / 25.4 * 300), int(85 / 25.4 * 300))
    np.testing.assert_array_equal(written, np.asarray(Image.open(reference)))
