"""The frame of the models with random effects per subject, built by the one builder.

:class:`GroupedFrame` and its builder live in :mod:`ketex.models._design`; this module
keeps the name importable for the result modules that annotate with it.
"""

from __future__ import annotations

from ketex.models._design import GroupedFrame

__all__ = ["GroupedFrame"]
