"""save_figure writes its files at zlib level 1: the same image as the default level 6
(PNG pixels, PDF drawing operations and fonts), in less time."""

import io
import re
import zlib

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from ketex.report import style
from ketex.report.style import new_figure, publication_style, save_figure


@pytest.fixture(scope="module")
def figure():
    """Lines, markers, text in two weights, a legend and an image (rasterised in PDF)."""
    fig, axes = new_figure("double", 60, ncols=2)
    x = np.linspace(0, 12, 50)
    axes[0].plot(x, np.sin(x), marker="o", label="SINGLE")
    axes[0].plot(x, np.cos(x), label="SERIES")
    axes[0].set_title("a  Observed score", loc="left")
    axes[0].legend()
    axes[1].imshow(np.random.default_rng(1).random((20, 30)), aspect="auto")
    axes[1].set_xlabel("week")
    yield fig
    plt.close(fig)


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def _streams(data: bytes) -> list[bytes]:
    """Every stream of a PDF, decompressed."""
    found = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, flags=re.S)
    out = []
    for raw in found:
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return out


def test_the_png_has_the_pixels_of_the_default_compression(figure, tmp_path):
    (path,) = save_figure(figure, tmp_path / "demo", formats=["png"], dpi=100)
    with publication_style():
        default = io.BytesIO()
        figure.savefig(default, format="png", dpi=100)
    written = path.read_bytes()
    assert written != default.getvalue()  # another compression ...
    np.testing.assert_array_equal(_pixels(written), _pixels(default.getvalue()))  # ... same image


def test_the_pdf_draws_what_the_default_compression_draws(figure, tmp_path):
    assert style.PDF_COMPRESSION == 1
    metadata = {"Creator": "ketex", "CreationDate": None}
    with publication_style():
        files = {}
        for level in (6, style.PDF_COMPRESSION):
            buffer = io.BytesIO()
            with mpl.rc_context({"pdf.compression": level}):
                figure.savefig(buffer, format="pdf", metadata=metadata)
            files[level] = buffer.getvalue()
    assert files[6] != files[1]
    assert _streams(files[1]) == _streams(files[6])
    # and save_figure writes it at that level: the same streams as the level-6 file of the
    # layout it wrote (laid out at the PNG's 600 dpi, not at the PDF's 72 as savefig does)
    (path,) = save_figure(figure, tmp_path / "demo", formats=["pdf"], freeze_layout=True)
    engine = figure.get_layout_engine()
    with publication_style(), mpl.rc_context({"pdf.compression": 6}):
        default = io.BytesIO()
        figure.savefig(default, format="pdf", metadata=metadata)
    figure.set_layout_engine(layout="constrained")
    assert engine is None
    assert _streams(path.read_bytes()) == _streams(default.getvalue())
