"""The committed reference CSVs are what make_data.py makes (so the R numbers are
reproducible from the script)."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from tests.survival.conftest import REFERENCE_DIR


@pytest.mark.parametrize("name", ["relapse", "relapse_weekly", "tiny"])
def test_csv_equals_fresh_simulation(name):
    spec = importlib.util.spec_from_file_location("make_data", REFERENCE_DIR / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = getattr(module, name)()
    committed = pd.read_csv(REFERENCE_DIR / f"{name}.csv")
    pd.testing.assert_frame_equal(
        fresh.reset_index(drop=True), committed, check_dtype=False, check_exact=False, rtol=1e-12
    )
