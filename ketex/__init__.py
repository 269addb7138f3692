"""ketex: analysis of ketamine + structured exercise trials for depression.

The public API is listed in ``__all__``; everything else is private. Names are imported
on first use, from the modules ``__init__.pyi`` names (so ``import ketex`` does not load
matplotlib, scipy.stats or statsmodels until they are needed).
"""

import lazy_loader as _lazy

__getattr__, _, _names = _lazy.attach_stub(__name__, __file__)
_SUBMODULES = ("derive", "estimands", "io", "models", "report", "scales", "simulate",
               "streams", "study", "survival")

__version__ = "0.1.0.dev0"

#: Every public name: the names ``__init__.pyi`` imports (its ``__all__`` lists the same).
__all__ = ["__version__", *(name for name in _names if name not in _SUBMODULES)]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
