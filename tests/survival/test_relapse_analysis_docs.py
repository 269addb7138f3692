"""The examples of docs/relapse-analysis.md run and print what the page says."""

from __future__ import annotations

import doctest
from pathlib import Path

import pandas as pd

PAGE = Path(__file__).resolve().parents[2] / "docs" / "relapse-analysis.md"


def test_relapse_analysis_guide_examples():
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    parser = doctest.DocTestParser()
    test = parser.get_doctest(PAGE.read_text(), {}, "relapse-analysis.md", str(PAGE), 0)
    runner = doctest.DocTestRunner(optionflags=flags)
    # the page sets pandas display options: restore them for the other tests
    saved = ("display.width", "display.max_columns")
    with pd.option_context(*[item for name in saved for item in (name, pd.get_option(name))]):
        result = runner.run(test)
    assert result.attempted > 20
    assert result.failed == 0, "docs/relapse-analysis.md examples failed (run with -s to see)"
