"""The committed GEE reference CSV is what make_gee_data.py makes (so the R numbers are
reproducible from the script)."""

from __future__ import annotations

import importlib.util

import pandas as pd

from tests.models.test_gee_r_reference import REFERENCE_DIR


def test_csv_equals_fresh_simulation():
    spec = importlib.util.spec_from_file_location(
        "make_gee_data", REFERENCE_DIR / "make_gee_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.remission()
    committed = pd.read_csv(REFERENCE_DIR / "remission.csv")
    pd.testing.assert_frame_equal(
        fresh.reset_index(drop=True), committed, check_dtype=False, check_exact=False, rtol=1e-12
    )
