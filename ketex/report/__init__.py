"""Manuscript outputs: tables, figures and the report of a trial.

``ketex.report.tables`` makes Table 1 and the result tables, ``ketex.report.figures`` the
publication figures (in the style of ``ketex.report.style``), and
``ketex.report.run.write_report`` runs the protocol's pre-specified analysis and writes
every table, every figure and a self-contained ``report.html``.
"""

import importlib

from ketex.report._table import FORMATS, ManuscriptTable

__all__ = ["FORMATS", "ManuscriptTable"]
_SUBMODULES = ("figures", "tables")


def __getattr__(name: str):
    """``ketex.report.figures`` and ``.tables`` on first use (``ketex.figures`` is this)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
