"""The Word export of a manuscript table: booktabs-style rules (a thick rule above and
below the table, a thin one under the header, no vertical lines), numbers right-aligned
and each column as wide as its content.

python-docx is imported only here, when a ``.docx`` is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["FONT_PT", "RULE_THICK_EIGHTHS", "RULE_THIN_EIGHTHS", "column_widths_pt",
           "is_number_cell", "natural_widths_pt", "number_columns", "write_docx"]

#: Size of the table's text.
FONT_PT = 9.0
#: Word border widths, in eighths of a point (booktabs' heavy and light rules).
RULE_THICK_EIGHTHS = 8
RULE_THIN_EIGHTHS = 4
#: Space left and right of a cell's text (Word's default cell margins, 0.075 in each).
CELL_PADDING_PT = 10.8
#: Left indent of a level under its variable.
LEVEL_INDENT_PT = 12.0
#: Text is measured in DejaVu Sans (matplotlib's), wider than Word's Calibri; this much
#: more (a share of the width, and points) keeps a cell on one line in other fonts too.
SLACK_SHARE = 0.08
SLACK_PT = 2.0

_NUMBER = re.compile(r"^[<>\u2264\u2265~\u2248]?\s*[-\u2212+]?(\d|\.\d)")
_EMPTY = {"", "-", "\u2013", "\u2014", "NA", "NE", "n/a", "NR"}


def is_number_cell(text: str) -> bool:
    """Whether a cell holds a number (with its interval, percentage, ...) or a placeholder
    for one: such cells are right-aligned.

    Examples
    --------
    >>> [is_number_cell(t) for t in ["-3.4 (-6.3 to -0.5)", "<0.001", "12 (15.0%)", "NE",
    ...                              "Female", "WEEK12"]]
    [True, True, True, True, False, False]
    """
    text = text.strip()
    return text in _EMPTY or bool(_NUMBER.match(text))


def number_columns(rows: Sequence[Sequence[str]], n_columns: int) -> list[bool]:
    """For each column after the first: every cell a number (and at least one not empty).
    The first column labels the rows and is never one."""
    flags = [False]
    for j in range(1, n_columns):
        cells = [row[j].strip() for row in rows]
        flags.append(any(c not in _EMPTY for c in cells) and all(map(is_number_cell, cells)))
    return flags


def natural_widths_pt(header: Sequence[str], rows: Sequence[Sequence[str]], *,
                      indents: Sequence[bool] = (),
                      fontsize: float = FONT_PT) -> tuple[list[float], list[float]]:
    """Two widths per column, padding and slack included: ``full``, its widest cell on
    one line (bold header, indented levels); ``least``, its widest body cell on one line
    with the header wrapped (never narrower than the header's longest word)."""
    from ketex.report.figures._common import text_width_pt

    def width(text: str, **font) -> float:
        return max((text_width_pt(line, fontsize, **font) for line in text.split("\n")),
                   default=0.0)  # fmt: skip

    body = [0.0] * len(header)
    indents = list(indents) + [False] * (len(rows) - len(indents))
    for row, indent in zip(rows, indents, strict=True):
        for j, text in enumerate(row):
            extra = LEVEL_INDENT_PT if j == 0 and indent else 0.0
            body[j] = max(body[j], width(text.strip()) + extra)
    full, least = [], []
    for h, b in zip(header, body, strict=True):
        whole = width(str(h), weight="bold")
        word = max((width(w, weight="bold") for w in str(h).split()), default=0.0)
        full.append(_padded(max(b, whole)))
        least.append(_padded(max(b, word)))
    return full, least


def _padded(text_pt: float) -> float:
    return text_pt * (1 + SLACK_SHARE) + SLACK_PT + CELL_PADDING_PT


def column_widths_pt(header: Sequence[str], rows: Sequence[Sequence[str]], *,
                     indents: Sequence[bool] = (), available_pt: float,
                     fontsize: float = FONT_PT) -> list[float]:
    """Each column as wide as its content: every cell on one line when that fits in
    ``available_pt``; else the headers wrap (body cells stay on one line, the room left
    shared out in proportion to what each header lacks); when even that is too wide the
    widest columns are narrowed to a common cap (their text wraps) so the table fills
    the width exactly.

    Examples
    --------
    >>> w = column_widths_pt(["", "A"], [["Age, years, mean (SD)", "5"],
    ...                                  ["Sex", "12 (15.0%)"]], available_pt=400)
    >>> w[0] > w[1]
    True
    >>> sum(column_widths_pt(["", "A"], [["x " * 200, "5"]], available_pt=300))
    300.0
    """
    full, least = natural_widths_pt(header, rows, indents=indents, fontsize=fontsize)
    if sum(full) <= available_pt:
        return full
    if sum(least) <= available_pt:
        lacking = [f - m for f, m in zip(full, least, strict=True)]
        share = (available_pt - sum(least)) / sum(lacking)
        return [m + d * share for m, d in zip(least, lacking, strict=True)]
    # water-filling: the cap c with sum(min(w, c)) == available
    ordered = sorted(least)
    rest = available_pt
    cap = ordered[-1]
    for k, w in enumerate(ordered):
        share = rest / (len(ordered) - k)
        if w > share:
            cap = share
            break
        rest -= w
    return [min(w, cap) for w in least]


def write_docx(path: str | Path, title: str, header: Sequence[str],
               rows: Sequence[Sequence[str]], notes: Sequence[str], *,
               indents: Sequence[bool] = ()) -> Path:
    """Write a caption, the table and its notes to a Word document.

    ``rows`` are the text cells (the first column labels the rows); ``indents`` flags the
    rows that are levels under their variable. A table whose columns after the first
    would leave the row labels less than a quarter of the portrait text column is laid
    out on a landscape page.
    """
    try:
        import docx
        from docx.enum.section import WD_ORIENT
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "writing .docx needs python-docx: pip install 'python-docx>=1.1'"
        ) from exc
    document = docx.Document()
    section = document.sections[0]
    available = (section.page_width - section.left_margin - section.right_margin) / 12700
    # portrait unless the columns after the first leave it less than a quarter of the
    # width (the row labels wrap before a table goes landscape)
    _, least = natural_widths_pt(header, rows, indents=indents)
    if sum(least[1:]) > 0.75 * available:
        landscape = (section.page_height - section.left_margin - section.right_margin) / 12700
        if landscape > available:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = section.page_height, section.page_width
            available = landscape
    widths = column_widths_pt(header, rows, indents=indents, available_pt=available)
    numbers = number_columns(rows, len(header))
    indents = list(indents) + [False] * (len(rows) - len(indents))

    document.add_paragraph(title).runs[0].bold = True
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False  # fixed layout: Word keeps the widths below
    _table_rules(table)
    for j, column in enumerate(table.columns):
        column.width = Pt(widths[j])
    header_row = table.rows[0]
    _repeat_as_header(header_row)
    for i, texts in enumerate([list(header), *rows]):
        for j, (cell, text) in enumerate(zip(table.rows[i].cells, texts, strict=True)):
            cell.width = Pt(widths[j])
            paragraph = cell.paragraphs[0]
            run = paragraph.add_run(str(text).strip() if i == 0 or j == 0 else str(text))
            run.font.size = Pt(FONT_PT)
            run.bold = i == 0
            paragraph.alignment = (WD_ALIGN_PARAGRAPH.RIGHT if numbers[j]
                                   else WD_ALIGN_PARAGRAPH.LEFT)  # fmt: skip
            paragraph.paragraph_format.space_after = Pt(0)
            if i > 0 and j == 0 and indents[i - 1]:
                paragraph.paragraph_format.left_indent = Pt(LEVEL_INDENT_PT)
            if i == 0:
                _cell_bottom_rule(cell)
    for note in notes:
        paragraph = document.add_paragraph(note)
        paragraph.runs[0].font.size = Pt(8)
    path = Path(path)
    document.save(str(path))
    return path


def _border(tag: str, size_eighths: int | None):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(f"w:{tag}")
    if size_eighths is None:
        element.set(qn("w:val"), "nil")
    else:
        element.set(qn("w:val"), "single")
        element.set(qn("w:sz"), str(size_eighths))
        element.set(qn("w:space"), "0")
        element.set(qn("w:color"), "000000")
    return element


def _table_rules(table) -> None:
    """Thick rules above and below the table; no vertical or inner horizontal lines."""
    from docx.oxml import OxmlElement

    borders = OxmlElement("w:tblBorders")
    for tag, size in (("top", RULE_THICK_EIGHTHS), ("left", None),
                      ("bottom", RULE_THICK_EIGHTHS), ("right", None), ("insideH", None),
                      ("insideV", None)):  # fmt: skip
        borders.append(_border(tag, size))
    tbl_pr = table._tbl.tblPr
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                 "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def _cell_bottom_rule(cell) -> None:
    """The thin rule under a header cell."""
    from docx.oxml import OxmlElement

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    borders.append(_border("bottom", RULE_THIN_EIGHTHS))
    tc_pr.insert_element_before(borders, "w:shd", "w:noWrap", "w:tcMar", "w:textDirection",
                                "w:tcFitText", "w:vAlign", "w:hideMark", "w:headers",
                                "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange")


def _repeat_as_header(row) -> None:
    """Repeat the header row at the top of each page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)
