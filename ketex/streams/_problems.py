"""The report table of stream problems (the columns of every ketex report)."""

from __future__ import annotations

import pandas as pd

from ketex.errors import DataValidationError
from ketex.study.problems import REPORT_COLUMNS

__all__ = ["raise_problems"]


def raise_problems(summary: str, problems: list[dict[str, object]]) -> None:
    """Raise one :class:`DataValidationError` listing every problem, if any.

    Each problem is a dict with some of the report's columns (``table`` is ``"stream"``
    and ``severity`` ``"error"`` unless given); the message shows the first five.
    """
    if not problems:
        return
    rows = [
        {"table": "stream", "severity": "error", **{k: v for k, v in p.items()}}
        for p in problems
    ]
    report = pd.DataFrame(rows).reindex(columns=list(REPORT_COLUMNS))
    shown = "; ".join(str(p["message"]) for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    raise DataValidationError(f"{summary}: {shown}{more}", report)
