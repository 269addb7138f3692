"""REDCap exports: read one into a :class:`~ketex.study.trial.Trial`, or write a trial as one.

A REDCap export is three files: the records (flat CSV), the data dictionary (CSV, 18
columns) and a mapping (TOML ``[redcap]`` section) that says which forms and fields hold
participants, infusions, exercise sessions, rating scales and clinical events.

- :func:`load_redcap` reads and validates an export.
- :func:`write_redcap` writes a trial as an export that reads back unchanged.
- :func:`read_dictionary` reads a data dictionary on its own.
"""

from ketex.io.redcap.dictionary import DICTIONARY_COLUMNS, read_dictionary
from ketex.io.redcap.read import load_redcap
from ketex.io.redcap.write import write_redcap

__all__ = ["DICTIONARY_COLUMNS", "load_redcap", "read_dictionary", "write_redcap"]
