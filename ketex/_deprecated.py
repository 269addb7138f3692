"""Arguments renamed in this release, kept as deprecated aliases for one more."""

from __future__ import annotations

import warnings

__all__ = ["renamed"]


def renamed(function: str, old: str, new: str, old_value, new_value, *, default=None,
            stacklevel: int = 3):
    """The value of an argument renamed from ``old`` to ``new``, warning when the old
    name is used (a :class:`FutureWarning`: the alias goes in the next release).

    ``default`` is the new argument's default: giving both names with different
    values is an error.

    Examples
    --------
    >>> renamed("lmm", "groups", "subject", None, "id")
    'id'
    """
    if old_value is None:
        return new_value
    warnings.warn(f"{function}({old}=...) is deprecated and will be removed in the next "
                  f"release; use {new}= instead.", FutureWarning, stacklevel=stacklevel)
    if new_value is not None and new_value != default and new_value != old_value:
        raise TypeError(f"{function}() got both {old}= (deprecated) and {new}=; give only "
                        f"{new}=.")
    return old_value
