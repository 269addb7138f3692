"""Word and LaTeX tables as journals print them: booktabs rules, numbers right-aligned,
columns as wide as their content. The .docx is read back with python-docx."""

from __future__ import annotations

import pandas as pd
import pytest

from ketex.report import ManuscriptTable
from ketex.report._docx import CELL_PADDING_PT, LEVEL_INDENT_PT, SLACK_PT, SLACK_SHARE
from ketex.report.figures._common import text_width_pt
from ketex.report.tables import table_one

docx = pytest.importorskip("docx")
from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402

EMU_PER_PT = 12700


@pytest.fixture(scope="module")
def small():
    display = pd.DataFrame({"": ["Participants", "    Women", "Visit"],
                            "A (N = 20)": ["20", "12 (60.0%)", "WEEK12"],
                            "B (N = 18)": ["18", "9 (50.0%)", "WEEK12"],
                            "Difference": ["", "10.0 (-21.5 to 41.5)", ""]})  # fmt: skip
    return ManuscriptTable(pd.DataFrame({"x": [1]}), display, "Table 9. Demo",
                           ("A note.",), "demo")


@pytest.fixture(scope="module")
def small_docx(small, tmp_path_factory):
    path = small.to_docx(tmp_path_factory.mktemp("docx") / "demo.docx")
    return docx.Document(str(path)).tables[0]


def _border(parent, tag):
    found = parent.find(qn(f"w:{tag}"))
    if found is None:
        return None
    return found.get(qn("w:val")), found.get(qn("w:sz"))


def test_word_table_has_booktabs_rules_and_no_vertical_lines(small_docx):
    borders = small_docx._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders is not None
    top, bottom = _border(borders, "top"), _border(borders, "bottom")
    assert top[0] == "single" and bottom == top
    for tag in ("left", "right", "insideV", "insideH"):
        assert _border(borders, tag)[0] in ("nil", "none"), tag
    for i, row in enumerate(small_docx.rows):
        for cell in row.cells:
            tc_pr = cell._tc.tcPr
            rules = None if tc_pr is None else tc_pr.find(qn("w:tcBorders"))
            if i == 0:  # the thin rule under the header, thinner than top and bottom
                val, size = _border(rules, "bottom")
                assert val == "single" and 0 < int(size) < int(top[1])
                assert all(_border(rules, t) is None for t in ("left", "right", "top"))
            else:
                assert rules is None


def test_word_table_right_aligns_number_columns_only(small_docx):
    for i, row in enumerate(small_docx.rows):
        got = [cell.paragraphs[0].alignment for cell in row.cells]
        # the label column and the column of visit names are text; the others numbers
        assert got[0] == WD_ALIGN_PARAGRAPH.LEFT
        assert got[1] == got[2] == WD_ALIGN_PARAGRAPH.LEFT, i
        assert got[3] == WD_ALIGN_PARAGRAPH.RIGHT, i
    assert small_docx.cell(2, 0).paragraphs[0].paragraph_format.left_indent is not None


def test_word_table_columns_fit_their_content(small, small_docx):
    assert small_docx._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    grid = [int(c.get(qn("w:w"))) / 20 for c in small_docx._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert len(set(grid)) == len(grid)  # not the equal widths Word gets by default
    for j, column in enumerate(small.display.columns):
        cells = [str(v).strip() for v in small.display[column]]
        need = max([text_width_pt(c, 9) for c in cells]
                   + [text_width_pt(str(column), 9, weight="bold")])
        # wide enough for every cell on one line (padding and some slack), not much wider
        slack = need * SLACK_SHARE + SLACK_PT + CELL_PADDING_PT
        extra = LEVEL_INDENT_PT if j == 0 else 0.0  # the indented level may be widest
        assert need + slack - 0.1 <= grid[j] <= need + slack + extra + 0.1, (column, grid[j])
        for row in small_docx.rows:  # each cell carries its column's width
            assert row.cells[j].width / EMU_PER_PT == pytest.approx(grid[j], abs=0.05)


def test_word_table_one_wraps_within_the_portrait_text_width(sample_trial, tmp_path):
    t1 = table_one(sample_trial)
    document = docx.Document(str(t1.to_docx(tmp_path / "t1.docx")))
    section = document.sections[0]
    assert section.page_width < section.page_height  # portrait
    text_pt = (section.page_width - section.left_margin - section.right_margin) / EMU_PER_PT
    table = document.tables[0]
    widths = [c.width / EMU_PER_PT for c in table.columns]
    assert sum(widths) == pytest.approx(text_pt, abs=1)
    # the long arm headers wrap; the SMD column stays as narrow as "SMD" and "0.26"
    assert widths[-1] < widths[1] < text_width_pt(str(t1.display.columns[1]), 9, weight="bold")
    smd = text_width_pt("SMD", 9, weight="bold")
    assert widths[-1] == pytest.approx(smd * (1 + SLACK_SHARE) + SLACK_PT + CELL_PADDING_PT,
                                       abs=0.1)
    aligned = {cell.paragraphs[0].alignment for row in table.rows[1:] for cell in row.cells[1:]}
    assert aligned == {WD_ALIGN_PARAGRAPH.RIGHT}


def test_latex_table_uses_booktabs_and_aligns_numbers_right(small):
    tex = small.to_latex()
    lines = tex.splitlines()
    assert "\\begin{tabular}{lllr}" in lines  # label, two text columns, numbers
    rules = [line for line in lines if line.startswith(("\\toprule", "\\midrule",
                                                        "\\bottomrule", "\\hline"))]
    assert rules == ["\\toprule", "\\midrule", "\\bottomrule"]
    top = lines.index("\\toprule")
    assert lines[top + 2] == "\\midrule"  # right under the header
    assert lines[lines.index("\\bottomrule") - 1].startswith("Visit")
    assert "|" not in lines[lines.index("\\toprule") - 1]
