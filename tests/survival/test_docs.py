"""The examples of docs/survival.md run and print what the page says."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "survival.md"


def test_survival_guide_examples():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    parser = doctest.DocTestParser()
    test = parser.get_doctest(PAGE.read_text(), {}, "survival.md", str(PAGE), 0)
    runner = doctest.DocTestRunner(optionflags=flags)
    try:
        result = runner.run(test)
    finally:
        plt.close("all")
    assert result.attempted > 20
    assert result.failed == 0, "docs/survival.md examples failed (run with -s to see)"
