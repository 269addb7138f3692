"""The built wheel ships the sample studies, and an installed ketex finds them."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORMS = {"sample": "folder", "sample_redcap": "redcap", "sample_sdtm": "sdtm",
         "sample_factorial": "folder", "sample_factorial_redcap": "redcap",
         "sample_factorial_sdtm": "sdtm"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    env = {**os.environ, "TMPDIR": str(build)}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
         "-q", "-w", str(out)],
        check=True, capture_output=True, env=env, cwd=build,
    )
    (path,) = out.glob("ketex-*.whl")
    return path


def test_wheel_holds_every_sample_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for form in FORMS:
        folder = ROOT / "ketex" / "data" / form
        committed = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                           if p.is_file())  # the sample's streams/ folder too
        assert committed, form
        for file in committed:
            assert f"ketex/data/{form}/{file}" in names, file


def test_installed_ketex_finds_its_samples_outside_the_repository(wheel, tmp_path):
    target, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )
    code = (
        "import ketex, pathlib\n"
        "for study in ('yale', 'factorial'):\n"
        "    for form in ('folder', 'redcap', 'sdtm'):\n"
        "        p = ketex.sample_study_path(form, study=study)\n"
        "        print(study, form, p.is_relative_to(pathlib.Path(ketex.__file__).parent),"
        " (p / 'study.toml').is_file())\n"
        "print(ketex.__file__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=elsewhere, check=True)
    lines = run.stdout.splitlines()
    assert lines[:6] == [f"{study} {form} True True" for study in ("yale", "factorial")
                         for form in ("folder", "redcap", "sdtm")]
    assert Path(lines[6]).is_relative_to(target)  # the installed copy, not the checkout
