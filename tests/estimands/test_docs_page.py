"""The examples of docs/estimands.md run and print what the page says."""

from __future__ import annotations

import doctest
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "estimands.md"


def test_estimands_guide_examples():
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    parser = doctest.DocTestParser()
    test = parser.get_doctest(PAGE.read_text(encoding="utf-8"), {}, "estimands.md", str(PAGE), 0)
    result = doctest.DocTestRunner(optionflags=flags).run(test)
    assert result.attempted > 30
    assert result.failed == 0, "docs/estimands.md examples failed (run with -s to see)"
