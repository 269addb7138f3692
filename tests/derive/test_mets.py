"""MET values of sessions: the ACSM leg-cycling equation, the 2011 Compendium, the sources."""

import math

import numpy as np
import pandas as pd
import pytest

from ketex.derive.mets import (
    COMPENDIUM_2011,
    CompendiumEntry,
    CompendiumTable,
    MetOptions,
    acsm_cycling_met,
    normalise_modality,
    session_mets,
)


def test_acsm_equation_at_100_w_and_80_kg():
    # VO2 = 10.8 x 100 / 80 + 7 = 13.5 + 7 = 20.5 mL/kg/min; METs = 20.5 / 3.5
    assert acsm_cycling_met(100, 80) == pytest.approx(20.5 / 3.5, rel=1e-12)
    assert acsm_cycling_met(100, 80) == pytest.approx(5.857, abs=5e-4)


def test_acsm_equation_other_hand_values():
    # 50 W at 70 kg: 10.8 x 50 / 70 = 7.7142857; + 7 = 14.7142857; / 3.5 = 4.2040816
    # 0 W: unloaded cycling, 7 / 3.5 = 2 METs
    out = acsm_cycling_met([50.0, 0.0], [70.0, 90.0])
    np.testing.assert_allclose(out, [14.7142857142857 / 3.5, 2.0], rtol=1e-12)


@pytest.mark.parametrize("weight", [np.nan, 0.0, -5.0])
def test_acsm_equation_without_a_usable_weight_is_nan(weight):
    assert np.isnan(acsm_cycling_met(100.0, weight))


# The 2011 Compendium bands for stationary cycling, at both edges of every boundary.
@pytest.mark.parametrize(
    ("watts", "met", "code"),
    [
        (30, 3.5, "02011"),
        (50, 3.5, "02011"),
        (51, 4.8, "02017"),
        (89, 4.8, "02017"),
        (90, 6.8, "02012"),
        (100, 6.8, "02012"),
        (101, 8.8, "02013"),
        (160, 8.8, "02013"),
        (161, 11.0, "02014"),
        (200, 11.0, "02014"),
        (201, 14.0, "02015"),
        (270, 14.0, "02015"),
        # fractional watts are rounded half up to whole watts first
        (50.4, 3.5, "02011"),
        (50.5, 4.8, "02017"),
        (100.49, 6.8, "02012"),
        (100.5, 8.8, "02013"),
        (29.5, 3.5, "02011"),
        (270.49, 14.0, "02015"),
    ],
)
def test_compendium_2011_cycling_bands(watts, met, code):
    entry = COMPENDIUM_2011.lookup("cycling", watts)
    assert (entry.met, entry.code) == (met, code)


@pytest.mark.parametrize("watts", [0, 29, 29.49, 270.5, 271, 400])
def test_compendium_has_no_value_outside_its_bands(watts):
    assert COMPENDIUM_2011.lookup("cycling", watts) is None


def test_compendium_general_entry_when_no_power_and_nothing_for_other_modalities():
    general = COMPENDIUM_2011.lookup("cycling", None)
    assert (general.code, general.met) == ("02010", 7.0)
    assert COMPENDIUM_2011.lookup("walking", None) is None
    assert COMPENDIUM_2011.lookup(None, 95) is None
    assert COMPENDIUM_2011.source == "compendium_2011"
    assert "Med Sci Sports Exerc" in COMPENDIUM_2011.citation


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("cycling", "cycling"),
        ("Cycle ergometer", "cycling"),
        ("stationary_bike", "cycling"),
        ("BICYCLING", "cycling"),
        ("brisk-walking", "brisk walking"),
        ("  ", None),
        (None, None),
        (pd.NA, None),
    ],
)
def test_modality_names(written, canonical):
    assert normalise_modality(written) == canonical


def _sessions(**columns):
    return pd.DataFrame(columns)


def test_each_source_in_turn_and_its_reference():
    sessions = _sessions(
        met=[6.0, np.nan, np.nan, np.nan, np.nan, np.nan],
        watts=[100.0, 100.0, 95.0, np.nan, 300.0, np.nan],
        modality=["cycling", "cycling", "cycling", "cycling", "cycling", "walking"],
    )
    weight = [80.0, 80.0, np.nan, np.nan, np.nan, 70.0]
    out = session_mets(sessions, weight)
    expected_met = [6.0, 20.5 / 3.5, 6.8, 7.0, np.nan, np.nan]
    np.testing.assert_allclose(out["met"], expected_met, rtol=1e-12)
    assert out["met_source"].tolist() == [
        "given",
        "acsm_cycling",
        "compendium_2011",
        "compendium_2011",
        "none",
        "none",
    ]
    assert out["met_reference"][0] == "exercise.met"
    assert out["met_reference"][2].startswith("Compendium 2011 02012")
    assert out["met_reference"][3].startswith("Compendium 2011 02010")
    # the reason a session has no value names every source tried
    assert "ACSM equation needs watts and weight_kg" in out["met_reference"][4]
    assert "300 W is outside the Compendium 2011 bands" in out["met_reference"][4]
    assert "not for modality 'walking'" in out["met_reference"][5]
    assert "no Compendium 2011 entry for walking" in out["met_reference"][5]


def test_sources_order_and_subset():
    sessions = _sessions(met=[6.0], watts=[100.0], modality=["cycling"])
    acsm_first = session_mets(
        sessions, [80.0], options=MetOptions(sources=("acsm_cycling", "given"))
    )
    assert acsm_first["met_source"].tolist() == ["acsm_cycling"]
    compendium_only = session_mets(sessions, [80.0], options=MetOptions(sources=("compendium",)))
    assert compendium_only["met"].tolist() == [6.8]


def test_missing_modality_takes_the_default_and_absent_columns_are_fine():
    sessions = _sessions(watts=[95.0, 95.0], modality=[None, "walking"])
    out = session_mets(sessions, [np.nan, np.nan], default_modality="cycling")
    assert out["met"].tolist()[0] == 6.8
    assert math.isnan(out["met"].tolist()[1])
    bare = session_mets(_sessions(duration_min=[45.0]), [80.0])
    assert bare["met_source"].tolist() == ["none"]
    assert "no modality for the Compendium" in bare["met_reference"][0]


def test_another_compendium_version_is_recorded_in_the_source():
    table = CompendiumTable(
        version="2024",
        citation="a later version, for the test",
        entries=(CompendiumEntry("99999", "cycling", "made up for the test", 5.0, (0, 500)),),
    )
    out = session_mets(
        _sessions(watts=[95.0], modality=["cycling"]),
        [np.nan],
        options=MetOptions(compendium=table),
    )
    assert out["met_source"].tolist() == ["compendium_2024"]
    assert out["met"].tolist() == [5.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sources": ()}, "at least one"),
        ({"sources": ("given", "given")}, "each source once"),
        ({"sources": ("measured",)}, "unknown source"),
    ],
)
def test_met_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MetOptions(**kwargs)


def test_compendium_table_is_checked():
    with pytest.raises(ValueError, match="version"):
        CompendiumTable("2011 revised", "", ())
    with pytest.raises(ValueError, match="watts must be"):
        CompendiumTable("x", "", (CompendiumEntry("1", "cycling", "", 1.0, (90, 50)),))


def test_weights_must_align_with_sessions():
    with pytest.raises(ValueError, match="one value per session"):
        session_mets(_sessions(met=[1.0, 2.0]), [80.0])
