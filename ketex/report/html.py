"""A self-contained HTML report: styles inline, figures embedded as base64 PNG.

Nothing in the page refers to anything outside it (no links to style sheets, scripts,
fonts or images), so it opens offline and can be sent as one file.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["FigureItem", "ReportSection", "embed_png", "render_html"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 62rem; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
.meta { color: #555; font-size: 0.9rem; }
nav ol { columns: 2; font-size: 0.92rem; }
table.ketex-table { border-collapse: collapse; margin: 1rem 0 0.3rem; font-size: 0.85rem; }
table.ketex-table caption { caption-side: top; text-align: left; font-weight: 600;
                            padding-bottom: 0.4rem; }
table.ketex-table th, table.ketex-table td { padding: 0.25rem 0.6rem; text-align: right;
                                             vertical-align: top; }
table.ketex-table th:first-child, table.ketex-table td:first-child { text-align: left; }
table.ketex-table thead th { border-top: 2px solid #222; border-bottom: 1px solid #222; }
table.ketex-table tbody tr:last-child td { border-bottom: 2px solid #222; }
table.ketex-table td.level { padding-left: 1.6rem; }
table.ketex-table td:not(:first-child) { white-space: nowrap; }
table.ketex-table td.wrap { white-space: normal; min-width: 9rem; }
table.ketex-table td:first-child { min-width: 9rem; }
.notes { font-size: 0.78rem; color: #444; max-width: 55rem; }
.notes p { margin: 0.15rem 0; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #333; max-width: 55rem; }
.summary { background: #f5f7fa; border-left: 4px solid #0072B2; padding: 0.6rem 1rem; }
.files { font-size: 0.85rem; }
code { font-size: 0.85rem; }
"""


def embed_png(fig, dpi: int = 200) -> str:
    """The figure as a ``data:image/png;base64,...`` URI.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(1, 1))
    >>> embed_png(fig, dpi=10).startswith("data:image/png;base64,iVBOR")
    True
    >>> plt.close(fig)
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass(frozen=True)
class FigureItem:
    """A figure of the report: its embedded image, caption and file stem."""

    image: str
    caption: str
    name: str


@dataclass(frozen=True)
class ReportSection:
    """A section: heading, paragraphs of text, tables (HTML fragments) and figures."""

    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    figures: tuple[FigureItem, ...] = ()
    anchor: str = field(default="")


def _anchor(section: ReportSection, index: int) -> str:
    return section.anchor or f"section-{index}"


def render_html(title: str, meta: Sequence[str], sections: Sequence[ReportSection],
                summary: Sequence[str] = ()) -> str:
    """The whole report as one HTML document.

    Parameters
    ----------
    title : str
    meta : sequence of str
        Lines under the title (study, data, date, software).
    sections : sequence of ReportSection
    summary : sequence of str
        Key results, shown in a box before the contents.

    Returns
    -------
    str

    Examples
    --------
    >>> page = render_html("Demo", ["study X"], [ReportSection("Results", ("All good.",))])
    >>> page.startswith("<!DOCTYPE html>"), "All good." in page
    (True, True)
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "".join(f'<div class="meta">{html.escape(line)}</div>' for line in meta),
    ]
    if summary:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in summary)
        parts.append(f'<div class="summary"><strong>Key results</strong><ul>{items}</ul></div>')
    toc = "".join(f'<li><a href="#{_anchor(s, i)}">{html.escape(s.title)}</a></li>'
                  for i, s in enumerate(sections))  # fmt: skip
    parts.append(f"<nav><h2>Contents</h2><ol>{toc}</ol></nav>")
    for i, section in enumerate(sections):
        parts.append(f'<section id="{_anchor(section, i)}"><h2>{html.escape(section.title)}</h2>')
        parts += [f"<p>{html.escape(p)}</p>" for p in section.paragraphs]
        parts += list(section.tables)
        for item in section.figures:
            parts.append(
                f'<figure id="{html.escape(item.name)}"><img src="{item.image}" '
                f'alt="{html.escape(item.caption)}"><figcaption>{html.escape(item.caption)}'
                "</figcaption></figure>"
            )
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
