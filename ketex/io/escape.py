"""Escaping user text for the files ketex writes: spreadsheets (CSV, xlsx) and markup.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula (CSV injection). Every CSV writer of ketex passes
its frame through :func:`csv_safe`, which prefixes such text cells with an apostrophe as
OWASP recommends; numbers (``-3``, ``-0.52 (-1.10, 0.06)``) are left as they are, since
a spreadsheet reads them as numbers. ketex's CSV reader undoes the prefix
(:func:`unescape_formula`), so a study folder written by ketex reads back equal. In xlsx
text cells are written as text (:func:`text_cells_as_text`) and need no prefix.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["csv_safe", "escape_formula", "markdown_text", "text_cells_as_text",
           "unescape_formula"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# a cell of numbers only: signed decimals and percentages, separated by spaces, commas,
# parentheses (an estimate with its interval); nothing a spreadsheet could call
_NUMBER_TOKEN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")
_SEPARATORS = re.compile(r"[\s(),;]+")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def _numbers_only(text: str) -> bool:
    """Numbers only, and no sign a spreadsheet would read as an operator: after the first
    number a signed one must follow a parenthesis, comma or semicolon (``-1 (-2, 3)``),
    never only a space (``-1 +2`` is the formula -1+2)."""
    parts = _SEPARATORS.split(text)
    separators = _SEPARATORS.findall(text)
    tokens = [(t, separators[i - 1] if i else "") for i, t in enumerate(parts) if t]
    if not tokens or not all(_NUMBER_TOKEN.fullmatch(t) for t, _ in tokens):
        return False
    return all(t[0] not in "+-" or set(before) & set("(),;")
               for t, before in tokens[1:])


def escape_formula(value: object) -> object:
    """Text that a spreadsheet would run as a formula, prefixed with an apostrophe.

    Text already starting with apostrophes before a formula character gets one more,
    so :func:`unescape_formula` restores every value exactly. Values that are not
    text, and text made of numbers only, are returned unchanged.

    Examples
    --------
    >>> escape_formula('=HYPERLINK("http://x")'), escape_formula("-3"), escape_formula("M01")
    ('\\'=HYPERLINK("http://x")', '-3', 'M01')
    >>> escape_formula("-0.52 (-1.10, 0.06)"), escape_formula("-2+3+cmd|' /C calc'!A0")[:3]
    ('-0.52 (-1.10, 0.06)', "'-2")
    >>> escape_formula("-1 +2")   # a spreadsheet would compute 1
    "'-1 +2"
    """
    if not isinstance(value, str) or not value:
        return value
    if _ESCAPED.match(value):
        return "'" + value
    if value.startswith(_TRIGGERS) and not (value[0] in "+-" and _numbers_only(value)):
        return "'" + value
    return value


def unescape_formula(value: object) -> object:
    """Undo :func:`escape_formula`: drop one apostrophe before a formula character.

    Examples
    --------
    >>> unescape_formula("'=1+1"), unescape_formula("''=1"), unescape_formula("'quoted'")
    ('=1+1', "'=1", "'quoted'")
    """
    if isinstance(value, str) and _ESCAPED.match(value):
        return value[1:]
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with its text cells (and column names) passed through
    :func:`escape_formula`, ready for ``to_csv``.

    Examples
    --------
    >>> import pandas as pd
    >>> csv_safe(pd.DataFrame({"id": ["=1+1", "P2"], "day": [-3, 4]})).values.tolist()
    [["'=1+1", -3], ['P2', 4]]
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or isinstance(values.dtype, (pd.StringDtype,
                                                               pd.CategoricalDtype)):
            out[column] = values.astype(object).map(escape_formula, na_action="ignore")
    out.columns = [escape_formula(c) if isinstance(c, str) else c for c in out.columns]
    return out


def text_cells_as_text(worksheet) -> None:
    """Mark every text cell of an openpyxl worksheet as text, never as a formula.

    openpyxl stores a string starting with ``=`` as a formula; ketex writes data, so a
    value such as ``=A1`` stays the text it was and reads back unchanged.
    """
    for row in worksheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" and isinstance(cell.value, str):
                cell.data_type = "s"


_MARKDOWN = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "|": "\\|",
             "\\": "\\\\", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]",
             "#": "\\#"}  # fmt: skip


def markdown_text(text: str) -> str:
    """User text for a Markdown table cell: HTML and Markdown markup shown, not run.

    Examples
    --------
    >>> markdown_text('<img src=x onerror="alert(1)"> *P_01*')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt; \\\\*P\\\\_01\\\\*'
    """
    return "".join(_MARKDOWN.get(ch, ch) for ch in str(text))
