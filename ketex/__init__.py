"""ketex: analysis of ketamine + structured exercise trials for depression.

The public API is listed in ``__all__``; everything else is private.
"""

from ketex.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataValidationError,
    KetexError,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "DataValidationError",
    "KetexError",
    "__version__",
]
