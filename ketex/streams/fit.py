"""Reading the ``record`` messages of a Garmin/ANT+ ``.fit`` file with fitdecode.

fitdecode (MIT licence, https://github.com/polyvertex/fitdecode) is a maintained pure-Python
FIT decoder; it is imported only when a ``.fit`` file is read. It is run with CRC checks and
error handling set to *raise*, and every error it raises is turned into a
:class:`ketex.KetexError` naming the file and the last complete record, so users never see
the decoder's own exception.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ketex.errors import KetexError

__all__ = ["fit_records"]

#: FIT ``record`` fields read, in order of preference, for each stream column.
FIT_FIELDS = {
    "heart_rate_bpm": ("heart_rate",),
    "power_w": ("power",),
    "cadence_rpm": ("cadence",),
    "speed_m_s": ("enhanced_speed", "speed"),
    "distance_m": ("distance",),
}


def fit_records(path: Path) -> list[dict[str, object]]:
    """The ``record`` messages of a FIT file, one dict each (stream column -> value).

    ``timestamp`` is a timezone-aware :class:`datetime.datetime` (FIT times are UTC);
    fields the record lacks or holds as "invalid" are left out.

    Raises
    ------
    ketex.KetexError
        The file cannot be read, is not a FIT file, fails its CRC, or ends early; the
        message names the file and the last record decoded completely.
    """
    try:
        import fitdecode
    except ImportError:  # pragma: no cover - fitdecode is a dependency of ketex
        raise KetexError(f"{path}: reading .fit files needs fitdecode: "
                         "pip install 'fitdecode>=0.10'") from None  # fmt: skip
    records: list[dict[str, object]] = []
    try:
        with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE,
                                 error_handling=fitdecode.ErrorHandling.RAISE) as reader:
            for frame in reader:
                if frame.frame_type == fitdecode.FIT_FRAME_DATA and frame.name == "record":
                    records.append(_record(frame))
    except OSError as error:
        raise KetexError(f"{path}: cannot be read ({error.strerror})") from None
    except Exception as error:  # noqa: BLE001 - fitdecode raises FitError and, on damaged
        # input, also struct/Value/Key/Index errors: every one becomes a KetexError
        last = (f"after record {len(records) - 1}, the last complete one" if records
                else "before its first record")  # fmt: skip
        what = ("ends early (truncated)" if isinstance(error, fitdecode.FitEOFError)
                else "cannot be decoded as FIT")  # fmt: skip
        raise KetexError(f"{path}: {what} {last} ({type(error).__name__}: {error})") from None
    return records


def _record(frame: Any) -> dict[str, object]:  # a fitdecode.FitDataMessage (untyped)
    out: dict[str, object] = {}
    if frame.has_field("timestamp"):
        stamp = frame.get_value("timestamp")
        if isinstance(stamp, datetime):
            out["timestamp"] = stamp
    for column, names in FIT_FIELDS.items():
        for name in names:
            if frame.has_field(name):
                value = frame.get_value(name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    out[column] = float(value)
                    break
    return out
