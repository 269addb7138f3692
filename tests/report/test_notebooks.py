"""The notebooks (jupytext percent scripts) run clean on the bundled sample."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("0*.py"))


def test_the_five_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_load_and_validate", "02_primary_mmrm", "03_relapse_and_sustained_response",
        "04_exercise_dose_response", "05_manuscript_figures",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KETEX_NOTEBOOK_OUT", str(tmp_path / "manuscript"))
    runpy.run_path(str(path), run_name="__main__")
    if path.stem == "05_manuscript_figures":
        assert (tmp_path / "manuscript" / "report.html").exists()
        assert (tmp_path / "manuscript" / "figures" / "custom_panel.pdf").exists()
