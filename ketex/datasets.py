"""Data that ship with ketex: the sample studies."""

from __future__ import annotations

from pathlib import Path

__all__ = ["sample_study_path"]

_ROOT = Path(__file__).resolve().parent / "data"


def sample_study_path(form: str = "folder", study: str = "yale") -> Path:
    """Where a bundled sample study lies.

    The samples were made by ``data/make_sample.py`` with the trial simulator (fixed
    seeds).

    Parameters
    ----------
    form : {"folder", "redcap", "sdtm"}
        The study folder (``ketex/data/sample``), its REDCap export
        (``ketex/data/sample_redcap``) or its SDTM datasets (``ketex/data/sample_sdtm``);
        they are package data, so they ship in the wheel.
    study : {"yale", "factorial"}
        ``"yale"``: single ketamine infusion vs six, both with aerobic exercise.
        ``"factorial"``: the 2 x 2 factorial sample (ketamine vs midazolam x aerobic
        cycling vs stretching, 40 per cell, ``ketex/data/sample_factorial``, its REDCap
        export ``sample_factorial_redcap`` and SDTM datasets ``sample_factorial_sdtm``).
        Every form holds its safety tables (adverse events, vitals, medications).

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
    >>> ketex.sample_study_path(study="factorial").name
    'sample_factorial'
    >>> ketex.sample_study_path("sdtm", study="factorial").name
    'sample_factorial_sdtm'
    """
    folders = {"folder": "sample", "redcap": "sample_redcap", "sdtm": "sample_sdtm"}
    if form not in folders:
        raise ValueError(f"form must be one of {', '.join(folders)}, got {form!r}")
    if study not in ("yale", "factorial"):
        raise ValueError(f"study must be 'yale' or 'factorial', got {study!r}")
    path = _ROOT / (folders[form] if study == "yale"
                    else folders[form].replace("sample", "sample_factorial", 1))
    if not path.is_dir() or not any(path.iterdir()):
        raise FileNotFoundError(
            f"the sample study is not at {path}; the installation lacks ketex's "
            "package data: reinstall ketex (pip install --force-reinstall ketex)"
        )
    return path
