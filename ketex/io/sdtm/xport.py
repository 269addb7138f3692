"""A small reader of SAS XPORT version 5 files (the FDA's format for SDTM datasets).

ketex reads XPORT itself rather than through ``pandas.read_sas`` because pandas (3.1)
misreads two things SDTM files contain all the time: zeros (read as 5.4e-79,
pandas-dev/pandas#50670) and the record count when the last record ends in blank
fields (trailing 8-byte blank words are taken for padding, so the record is lost).

The layout follows SAS technical note TS-140: 80-byte header records, a 140-byte
NAMESTR per variable, then fixed-length observations padded with blanks to a multiple
of 80 bytes. Numbers are IBM hexadecimal floating point, possibly truncated to fewer
than 8 bytes.

Version 5 stores no record count. Bytes after the last whole record must be blank
padding, so a file cut inside a record is refused; a cut that falls exactly where a
record ends on an 80-byte boundary cannot be told from a shorter file.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

__all__ = ["XportError", "read_xport"]

_CARD = 80
_LIBRARY = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
_LIBRARY_V8 = b"HEADER RECORD*******LIBV8   HEADER RECORD!!!!!!!"
_MEMBER = b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
_NAMESTR = b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!"
_OBS = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
_MISSING_CODES = frozenset(b"._ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class XportError(ValueError):
    """The file is not a readable SAS XPORT v5 file; the message says what is wrong."""


def read_xport(path: str | Path) -> tuple[list[str], list[list], int]:
    """The variables and records of the first dataset in an XPORT v5 file.

    Returns
    -------
    names : list of str
    records : list of list
        One list per record: ``str`` for character variables (trailing blanks removed,
        UTF-8 or else Latin-1), ``float`` for numeric ones (NaN for SAS missing values).
    members : int
        The number of datasets in the file (SDTM files hold one).

    Raises
    ------
    XportError
        When the file is not XPORT v5 or is damaged (truncated, inconsistent headers).
    """
    data = Path(path).read_bytes()
    if data.startswith(_LIBRARY_V8):
        raise XportError("this is SAS XPORT version 8; export the dataset as version 5")
    if not data.startswith(_LIBRARY):
        raise XportError("the file does not start with an XPORT library header")
    member = data.find(_MEMBER)
    if member < 0:
        raise XportError("no member (dataset) header found")
    namestr_size = _integer(data[member + 74: member + 78], "NAMESTR length")
    names_at = data.find(_NAMESTR, member)
    if names_at < 0 or namestr_size not in (136, 140):
        raise XportError("no valid NAMESTR header found")
    count = _integer(data[names_at + 54: names_at + 58], "variable count")
    variables = [_namestr(data, names_at + _CARD + k * namestr_size, namestr_size)
                 for k in range(count)]
    obs_at = names_at + _CARD + _padded(count * namestr_size)
    if data[obs_at: obs_at + len(_OBS)] != _OBS:
        raise XportError("the observation header is missing: the file is damaged")
    start = obs_at + _CARD
    end = data.find(_MEMBER, start)
    members = 1 + data.count(_MEMBER, start)
    body = data[start: end if end >= 0 else len(data)]
    if len(body) % _CARD:
        raise XportError(f"the data end mid-record ({len(body)} bytes are not a multiple "
                         "of 80): the file is truncated or damaged")
    length = max((v[2] + v[3] for v in variables), default=0)
    return [v[0] for v in variables], _records(body, variables, length), members


def _integer(raw: bytes, what: str) -> int:
    try:
        return int(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise XportError(f"the {what} in the header is not a number: damaged file") from None


def _padded(size: int) -> int:
    return -(-size // _CARD) * _CARD


def _namestr(data: bytes, at: int, size: int) -> tuple[str, bool, int, int]:
    """(name, is_numeric, position, length) of one variable."""
    raw = data[at: at + size]
    if len(raw) < 88:
        raise XportError("the variable descriptions (NAMESTR) are truncated")
    kind, _, length = struct.unpack(">hhh", raw[0:6])
    position = struct.unpack(">i", raw[84:88])[0]
    name = raw[8:16].decode("ascii", errors="replace").strip()
    if kind not in (1, 2) or length <= 0 or position < 0 or (kind == 1 and length > 8):
        raise XportError(f"variable {name!r} has an invalid description: damaged file")
    return name, kind == 1, position, length


def _records(body: bytes, variables: list, length: int) -> list[list]:
    if length == 0:
        return []
    count = len(body) // length
    # blanks after the last record pad it to 80 bytes; they are not records
    while count and (count - 1) * length > len(body) - _CARD and \
            body[(count - 1) * length: count * length].strip(b" ") == b"":
        count -= 1
    tail = body[count * length:]
    if tail.strip(b" "):
        raise XportError(f"the data end {len(tail)} bytes into record {count + 1} (records "
                         f"are {length} bytes): the file is truncated or damaged")
    rows = np.frombuffer(body[: count * length], dtype=np.uint8).reshape(count, length)
    columns = []
    for _, numeric, position, size in variables:
        cells = rows[:, position: position + size]
        columns.append(_numbers(cells) if numeric else [_text(bytes(c)) for c in cells])
    return [list(values) for values in zip(*columns, strict=True)]


def _text(raw: bytes) -> str:
    raw = raw.rstrip(b" \x00")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _numbers(cells: np.ndarray) -> list[float]:
    """IBM hexadecimal doubles (big-endian, maybe truncated) as IEEE floats."""
    full = np.zeros((len(cells), 8), dtype=np.uint8)
    full[:, : cells.shape[1]] = cells
    first = full[:, 0]
    fraction = full.copy()
    fraction[:, 0] = 0
    mantissa = fraction.view(">u8").ravel().astype(np.float64)  # rounds 56 to 53 bits
    exponent = (first & 0x7F).astype(np.int64)
    values = np.ldexp(mantissa, 4 * (exponent - 64) - 56)
    values = np.where(first & 0x80, -values, values)
    missing = np.isin(first, list(_MISSING_CODES)) & (fraction.sum(axis=1) == 0)
    return np.where(missing, np.nan, values).tolist()
