"""The ``ketex report`` command's console side: a progress bar and the closing lines."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from ketex.study.trial import Trial

__all__ = ["ProgressBar", "run_report"]


class ProgressBar:
    """A one-line progress bar on a terminal; one line per step elsewhere (logs, CI).

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> bar = ProgressBar(stream, width=10)
    >>> bar(1, 2, "Table 1")
    >>> bar(3, 2, "done")
    >>> print(stream.getvalue().splitlines()[0])
    [          ]  0/2  Table 1
    """

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.perf_counter()

    def __call__(self, step: int, total: int, name: str) -> None:
        done = min(step - 1, total)
        filled = round(self.width * done / total)
        bar = "#" * filled + " " * (self.width - filled)
        elapsed = time.perf_counter() - self.started
        if name == "done":
            line = f"[{bar}] {total}/{total}  finished in {elapsed:.0f} s"
        else:
            line = f"[{bar}] {done:>2}/{total}  {name}"
        if self.tty:
            self.stream.write("\r\033[K" + line + ("\n" if name == "done" else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def run_report(trial: Trial, out: str | Path, *, source: str | None = None,
               stream: TextIO | None = None, estimands=None, options=None) -> int:
    """Write the report with a progress bar; print where it went. Returns the exit status.

    ``estimands``: as :func:`ketex.write_report` takes it; default: the ``[estimands]``
    table of ``source/study.toml`` when ``source`` is a study folder that has one.
    ``options``: a :class:`ketex.ReportOptions` (default: its defaults).
    """
    import matplotlib

    from ketex.report.run import write_report

    matplotlib.use("Agg")  # no display needed, nothing pops up
    if estimands is None and source is not None and (Path(source) / "study.toml").is_file():
        estimands = Path(source)  # its [estimands] table, if any (none: not analysed)
    result = write_report(trial, out, options=options, progress=ProgressBar(stream),
                          source=source, estimands=estimands)
    n_tables = sum(1 for p in result.files if p.parent.name == "tables")
    n_figures = sum(1 for p in result.files if p.parent.name == "figures")
    print(f"wrote {result.html} ({n_tables} table files, {n_figures} figure files in "
          f"{Path(out) / 'tables'} and {Path(out) / 'figures'})")
    return 0
