"""The notebooks run clean on the bundled sample, as notebooks.

Each jupytext "percent" script in ``notebooks/`` is converted to a notebook with jupytext
and executed cell by cell with nbclient in an IPython kernel (ipykernel), as a reader
running it in Jupyter would. Any cell that raises fails the test; so does any warning (as
in the rest of the suite, warnings are errors: a first cell sets the filter), and so does
a cell that calls a plotting function but shows no figure. The kernel imports this
checkout's ketex (the repository root is put first on its ``PYTHONPATH``). Outputs are
not committed: only the scripts are in git.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.py"))
# The first cell, added by the test: warnings are errors, as in the rest of the suite
# (pyproject: filterwarnings), and the kernel says which Python it runs.
SETUP_CELL = "import sys, warnings\nwarnings.simplefilter('error')\nprint(sys.prefix)"
TIMEOUT_PER_CELL = 300  # seconds; the slowest cell (05, the whole report) takes ~20 s


def test_the_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_load_and_validate",
        "02_primary_mmrm",
        "03_relapse_and_sustained_response",
        "04_exercise_dose_response",
        "05_manuscript_figures",
        "06_does_exercise_add_to_ketamine",
        "07_mechanism",
    ]


def test_no_notebook_outputs_are_committed():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "--", "notebooks/*.ipynb"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert tracked == []


def _figures_not_shown(notebook) -> list[str]:
    """Cells that call a ketex plotting function but display no figure (e.g. when
    matplotlib's interactive mode is lost, Jupyter silently stops showing figures)."""
    return [
        cell.source.splitlines()[0]
        for cell in notebook.cells
        if cell.cell_type == "code"
        and re.search(r"\bplot_\w+\(", cell.source)
        and not any("image/png" in output.get("data", {}) for output in cell.outputs)
    ]


def _stderr_warnings(notebook) -> list[str]:
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                if "Warning" in output.get("text", ""):
                    found.append(f"cell {index}: {output['text'].strip()}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path, monkeypatch):
    jupytext = pytest.importorskip("jupytext", reason="jupytext comes with the dev extra (.[dev])")
    nbclient = pytest.importorskip("nbclient", reason="nbclient comes with the dev extra (.[dev])")
    pytest.importorskip("ipykernel", reason="ipykernel comes with the dev extra (.[dev])")
    nbformat = pytest.importorskip("nbformat")
    # Jupyter's own paths in the test's folder; the kernel imports this checkout's ketex
    # and writes its outputs to the test's folder.
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter_config"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter_data"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    ))  # fmt: skip
    monkeypatch.setenv("KETEX_NOTEBOOK_OUT", str(tmp_path / "manuscript"))

    notebook = jupytext.read(path)
    assert sum(cell.cell_type == "markdown" for cell in notebook.cells) >= 2, "prose missing"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(SETUP_CELL))
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=TIMEOUT_PER_CELL,
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working folder
    )
    client.execute()  # raises CellExecutionError, with the cell's traceback, on an error

    assert notebook.cells[0].outputs[0]["text"].strip() == sys.prefix  # this environment
    assert not _stderr_warnings(notebook)
    assert not _figures_not_shown(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    if path.stem == "05_manuscript_figures":
        assert (tmp_path / "manuscript" / "report.html").exists()
        assert (tmp_path / "manuscript" / "figures" / "custom_panel.pdf").exists()
