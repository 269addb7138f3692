"""The manuscript table: tidy numbers plus the formatted table, and its exports.

Exports are written here by hand (Markdown, LaTeX, HTML) rather than through pandas, whose
``to_markdown`` and ``to_latex`` need optional packages (tabulate, jinja2); Word needs
python-docx, imported only when a ``.docx`` is asked for (:mod:`ketex.report._docx`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ketex.io.escape import csv_safe, markdown_text
from ketex.report._docx import number_columns, write_docx

__all__ = ["FORMATS", "ManuscriptTable", "format_p"]

FORMATS = ("csv", "md", "tex", "html", "docx")
INDENT = "    "  # a level under its variable: four spaces in the display table
#: Cells longer than this (an NNT with its interval) may wrap in HTML; shorter ones do not.
WRAP_CHARS = 20


def format_p(p: float) -> str:
    """A p-value as journals print it: ``<0.001``, else three decimals.

    Examples
    --------
    >>> format_p(0.04567), format_p(0.00002), format_p(float("nan"))
    ('0.046', '<0.001', '')
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_estimate_ci(row) -> str:
    """An estimate with its confidence interval, one decimal: ``-3.4 (-6.3 to -0.5)``.

    ``row`` is anything indexed by ``estimate``, ``ci_low`` and ``ci_high``.

    Examples
    --------
    >>> format_estimate_ci({"estimate": -3.41, "ci_low": -6.32, "ci_high": -0.49})
    '-3.4 (-6.3 to -0.5)'
    """
    return f"{row['estimate']:.1f} ({row['ci_low']:.1f} to {row['ci_high']:.1f})"


@dataclass(frozen=True)
class ManuscriptTable:
    """A table of a manuscript: its numbers (tidy) and its printed form.

    Attributes
    ----------
    data : pandas.DataFrame
        The numbers behind the table, tidy (one row per quantity and group, fixed
        columns, described by the function that made the table). Use it for checks
        and further analysis.
    display : pandas.DataFrame
        The table as printed: text cells, the first column labels the rows. Rows of
        levels under a variable start with four spaces.
    title : str
        Caption.
    notes : tuple of str
        Footnotes: what each cell holds and how it was computed.
    name : str
        File stem used by :meth:`save` (e.g. ``"table1_baseline"``).

    Examples
    --------
    >>> import pandas as pd
    >>> t = ManuscriptTable(pd.DataFrame({"x": [1]}), pd.DataFrame({"": ["Age"], "A": ["5"]}),
    ...                     "Demo", ("A note.",), "demo")
    >>> print(t.to_markdown())
    **Demo**
    <BLANKLINE>
    |  | A |
    |---|---|
    | Age | 5 |
    <BLANKLINE>
    A note.
    """

    data: pd.DataFrame
    display: pd.DataFrame
    title: str
    notes: tuple[str, ...] = ()
    name: str = "table"

    def __str__(self) -> str:
        lines = [self.title, "", self.display.to_string(index=False), ""]
        return "\n".join(lines + list(self.notes))

    def _repr_html_(self) -> str:
        return self.to_html()

    # -- exports -------------------------------------------------------------------------

    def to_csv(self, path: str | Path, *, which: str = "display") -> Path:
        """Write the printed table (``which="display"``) or its numbers (``"data"``)."""
        if which not in ("display", "data"):
            raise ValueError(f"which must be 'display' or 'data', got {which!r}.")
        path = Path(path)
        frame = self.display if which == "display" else self.data
        csv_safe(frame).to_csv(path, index=False)  # no formulas from labels in spreadsheets
        return path

    def to_markdown(self) -> str:
        """The table as GitHub-flavoured Markdown, caption in bold, notes below."""
        header = [markdown_text(c) for c in self.display.columns]
        rows = [[markdown_text(_cell(v)) for v in row]
                for row in self.display.itertuples(index=False)]  # fmt: skip
        lines = [f"**{markdown_text(self.title)}**", "", "| " + " | ".join(header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]  # fmt: skip
        for row in rows:
            row[0] = row[0].replace(INDENT, "&emsp;") if row[0].startswith(INDENT) else row[0]
            lines.append("| " + " | ".join(row) + " |")
        if self.notes:
            lines += [""] + [markdown_text(note) for note in self.notes]
        return "\n".join(lines)

    def to_latex(self) -> str:
        """The table as a LaTeX ``table`` with booktabs rules (``\\usepackage{booktabs}``):
        ``\\toprule``, ``\\midrule`` under the header, ``\\bottomrule``, no vertical
        lines; columns of numbers right-aligned (``r``), others left (``l``)."""
        columns = list(self.display.columns)
        rows = [[_cell(v) for v in row] for row in self.display.itertuples(index=False)]
        spec = "".join("r" if n else "l" for n in number_columns(rows, len(columns)))
        lines = [
            "\\begin{table}[htbp]",
            "\\centering",
            f"\\caption{{{_latex(self.title)}}}",
            f"\\label{{tab:{self.name}}}",
            f"\\begin{{tabular}}{{{spec}}}",
            "\\toprule",
            " & ".join(_latex(str(c)) for c in columns) + " \\\\",
            "\\midrule",
        ]
        for row in self.display.itertuples(index=False):
            cells = [_cell(v) for v in row]
            first = cells[0]
            cells = [_latex(c) for c in cells]
            if first.startswith(INDENT):
                cells[0] = "\\quad " + _latex(first.strip())
            lines.append(" & ".join(cells) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}"]
        if self.notes:
            lines.append("\\par\\smallskip\\footnotesize")
            lines += [_latex(note) + "\\par" for note in self.notes]
        lines.append("\\end{table}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """The table as an HTML fragment (``<table>`` with caption and notes), no styles
        beyond classes ``ketex-table``, ``level`` (a level under its variable), ``wrap``
        (a cell longer than :data:`WRAP_CHARS` characters, which may wrap) and ``notes``."""
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.display.columns)
        body = []
        for row in self.display.itertuples(index=False):
            cells = [_cell(v) for v in row]
            level = cells[0].startswith(INDENT)
            first = f'<td class="level">{html.escape(cells[0].strip())}</td>' if level else (
                f"<td>{html.escape(cells[0])}</td>"
            )
            rest = "".join(f'<td class="wrap">{html.escape(c)}</td>' if len(c) > WRAP_CHARS
                           else f"<td>{html.escape(c)}</td>" for c in cells[1:])
            body.append(f"<tr>{first}{rest}</tr>")
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        return (
            f'<table class="ketex-table"><caption>{html.escape(self.title)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            + (f'<div class="notes">{notes}</div>' if notes else "")
        )

    def to_docx(self, path: str | Path) -> Path:
        """Write the table to a Word document (needs ``python-docx``): booktabs-style
        rules (thick above and below, thin under the header, no vertical lines), number
        columns right-aligned, each column as wide as its content (landscape when wider
        than a portrait page; the widest columns wrap when wider than that)."""
        rows = [[_cell(v) for v in row] for row in self.display.itertuples(index=False)]
        indents = [row[0].startswith(INDENT) for row in rows]
        return write_docx(path, self.title, [str(c) for c in self.display.columns], rows,
                          self.notes, indents=indents)

    def save(self, folder: str | Path, formats: Sequence[str] = FORMATS) -> list[Path]:
        """Write the table to ``folder/<name>.<format>`` for each format; the CSV of the
        numbers goes to ``<name>_data.csv``. Returns the paths written."""
        unknown = sorted(set(formats) - set(FORMATS))
        if unknown:
            raise ValueError(f"unknown table formats {unknown}; choose from {list(FORMATS)}.")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / self.name
        written = []
        for fmt in formats:
            target = stem.with_suffix(f".{fmt}")
            if fmt == "csv":
                written.append(self.to_csv(target))
                written.append(self.to_csv(folder / f"{self.name}_data.csv", which="data"))
            elif fmt == "docx":
                written.append(self.to_docx(target))
            else:
                text = {"md": self.to_markdown, "tex": self.to_latex, "html": self.to_html}[fmt]()
                target.write_text(text + "\n", encoding="utf-8")
                written.append(target)
        return written


def _cell(value) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


_LATEX = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#",
          "_": "\\_", "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}",
          "^": "\\textasciicircum{}", "<": "\\textless{}", ">": "\\textgreater{}",
          "\u2265": "$\\geq$", "\u2264": "$\\leq$", "\u2212": "$-$", "\u2013": "--",
          "\u00b1": "$\\pm$", "\u221e": "$\\infty$"}  # fmt: skip


def _latex(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in text)
