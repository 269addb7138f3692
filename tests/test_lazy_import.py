"""``import ketex`` is light: public names are imported on first use (issue #17)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ketex

STUB = Path(ketex.__file__).with_suffix(".pyi")
HEAVY = ("matplotlib", "matplotlib.pyplot", "scipy.stats", "statsmodels", "patsy",
         "ketex.models", "ketex.report.figures", "ketex.derive")


def _stub_all() -> list[str]:
    tree = ast.parse(STUB.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "__all__":
            return [element.value for element in node.value.elts]
    raise AssertionError("__init__.pyi has no __all__")


def test_import_ketex_loads_no_heavy_module():
    code = ("import sys, ketex; print(','.join(m for m in " + repr(HEAVY)
            + " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == ""


def test_every_public_name_resolves_and_the_stub_lists_the_same_names():
    assert sorted(_stub_all()) == sorted(ketex.__all__)
    assert len(ketex.__all__) == len(set(ketex.__all__)) > 100
    for name in ketex.__all__:
        assert getattr(ketex, name) is not None, name
    assert set(ketex.__all__) <= set(dir(ketex))


def test_submodules_and_the_figure_and_table_modules_are_reached_lazily():
    assert ketex.figures.__name__ == "ketex.report.figures"
    assert ketex.tables.__name__ == "ketex.report.tables"
    assert ketex.derive.Response is ketex.Response
    assert ketex.models.__name__ == "ketex.models"


def test_an_unknown_name_is_an_attribute_error():
    try:
        ketex.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("ketex.no_such_name did not raise")
