"""Data that ship with ketex: the sample study."""

from __future__ import annotations

from pathlib import Path

__all__ = ["sample_study_path"]

_ROOT = Path(__file__).resolve().parent / "data"


def sample_study_path(form: str = "folder") -> Path:
    """Where the bundled Yale-style sample study lies.

    The sample was made by ``data/make_sample.py`` with the trial simulator (fixed seed).

    Parameters
    ----------
    form : {"folder", "redcap", "sdtm"}
        The study folder (``ketex/data/sample``), its REDCap export
        (``ketex/data/sample_redcap``) or its SDTM datasets (``ketex/data/sample_sdtm``);
        they are package data, so they ship in the wheel.

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        When the package data are missing (an installation that dropped them).

    Examples
    --------
    >>> import ketex
    >>> (ketex.sample_study_path() / "study.toml").exists()
    True
    """
    folders = {"folder": "sample", "redcap": "sample_redcap", "sdtm": "sample_sdtm"}
    if form not in folders:
        raise ValueError(f"form must be one of {', '.join(folders)}, got {form!r}")
    path = _ROOT / folders[form]
    if not path.is_dir() or not any(path.iterdir()):
        raise FileNotFoundError(
            f"the sample study is not at {path}; the installation lacks ketex's "
            "package data: reinstall ketex (pip install --force-reinstall ketex)"
        )
    return path
