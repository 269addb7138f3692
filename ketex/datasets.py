"""Data that ship with ketex: the sample study."""

from __future__ import annotations

from pathlib import Path

__all__ = ["sample_study_path"]

_ROOT = Path(__file__).resolve().parent.parent / "data"


def sample_study_path(form: str = "folder") -> Path:
    """Where the bundled Yale-style sample study lies.

    The sample was made by ``data/make_sample.py`` with the trial simulator (fixed seed).

    Parameters
    ----------
    form : {"folder", "redcap", "sdtm"}
        The study folder (``data/sample``), its REDCap export (``data/sample_redcap``)
        or its SDTM datasets (``data/sample_sdtm``).

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        When ketex was installed without its source tree (the sample lives in the
        repository's ``data/`` folder, beside the package).

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
            f"the sample study is not at {path}; install ketex from its source tree "
            "(pip install -e .) or clone the repository"
        )
    return path
