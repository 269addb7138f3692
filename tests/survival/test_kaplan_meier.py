"""Kaplan-Meier against R's survfit (survival 3.5.3), and its input checks.

Reference: ``tests/reference/survival/reference_survival.R`` -> ``survival_reference.json``,
e.g.::

    survfit(Surv(days, relapsed) ~ arm, data = relapse, conf.type = "log-log")
    quantile(fit, probs = c(0.25, 0.5, 0.75))
    summary(fit, times = c(7, 14, 28, 56, 84), extend = TRUE)

Tolerance: relative 1e-10 (the computation is closed-form; both sides use doubles).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex.errors import DataValidationError
from ketex.survival import kaplan_meier
from tests.survival.conftest import as_array, load

RTOL = 1e-10


def _cases(reference):
    return reference["kaplan_meier"]


def _fit(case):
    data = load("tiny" if case["name"].startswith("tiny") else "relapse")
    return kaplan_meier(
        data,
        time="days",
        event="relapsed",
        group=None if case["name"] == "relapse_all" else "arm",
        conf_type=case["conf_type"],
        conf_level=case["conf_level"],
    )


def _ids(reference):
    return [f"{c['name']}-{c['conf_type']}-{c['conf_level']}" for c in _cases(reference)]


@pytest.fixture(params=range(10), ids=lambda i: f"case{i}")
def case(request, reference):
    return _cases(reference)[request.param]


def test_reference_has_all_cases(reference):
    assert len(_cases(reference)) == 10


def test_table_same_as_survfit(case):
    km = _fit(case)
    expected = case["table"]
    table = km.table
    assert table["group"].astype(str).tolist() == list(np.ravel(expected["group"]))
    for column, r_name in [("time", "time"), ("n_risk", "n_risk"), ("n_event", "n_event"),
                           ("n_censor", "n_censor"), ("survival", "survival"),
                           ("ci_low", "lower"), ("ci_high", "upper")]:  # fmt: skip
        np.testing.assert_allclose(
            table[column].to_numpy(dtype=float),
            as_array(expected[r_name]),
            rtol=RTOL,
            err_msg=column,
        )
    # survfit stores the SE of log S; summary() shows S times it (NaN where S = 0)
    with np.errstate(invalid="ignore"):  # 0 * Inf where the curve reaches 0
        se = as_array(expected["survival"]) * as_array(expected["std_err_log"])
    np.testing.assert_allclose(table["se"].to_numpy(), se, rtol=RTOL)


def test_quantiles_same_as_survfit(case):
    km = _fit(case)
    quantiles = km.quantile([0.25, 0.5, 0.75])
    expected = case["quantiles"]
    for column, r_name in [("time", "quantile"), ("ci_low", "lower"), ("ci_high", "upper")]:
        np.testing.assert_allclose(
            quantiles[column].to_numpy(), as_array(expected[r_name]), rtol=RTOL, err_msg=column
        )


def test_survival_at_times_same_as_summary(case):
    km = _fit(case)
    expected = case["at_times"]
    found = km.survival_at([7, 14, 28, 56, 84])
    last = km.table.groupby("group", sort=False, observed=True)["time"].max()
    within = found["time"].to_numpy() <= found["group"].map(last).to_numpy()
    assert found["n_risk"].tolist() == list(np.ravel(expected["n_risk"]))
    for column, r_name in [("survival", "survival"), ("se", "std_err"), ("ci_low", "lower"),
                           ("ci_high", "upper")]:  # fmt: skip
        np.testing.assert_allclose(
            found[column].to_numpy()[within], as_array(expected[r_name])[within], rtol=RTOL
        )
    # R's extend = TRUE carries the last value on; ketex says "not estimable"
    beyond = found.loc[~within]
    assert beyond.loc[beyond["survival"].notna(), "survival"].eq(0).all()


def test_median_midpoint_where_curve_is_flat_at_half(tiny):
    """Arm a falls to exactly 0.5 at day 3 and next drops at day 6: median (3 + 6) / 2."""
    km = kaplan_meier(tiny, time="days", event="relapsed", group="arm")
    assert km.median.set_index("group").loc["a", "median"] == 4.5
    assert km.median.set_index("group").loc["b", "median"] == 6.0


def test_hand_computed_greenwood():
    """n = 4: events at 1 and 3, censored at 2 and 4.

    S(1) = 3/4, S(3) = 3/4 * 1/2 = 3/8; var log S(3) = 1/(4*3) + 1/(2*1) = 7/12.
    """
    d = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 0, 1, 0]})
    km = kaplan_meier(d, time="t", event="e", conf_type="log")
    row = km.table.set_index("time").loc[3.0]
    assert row["survival"] == pytest.approx(3 / 8, rel=1e-14)
    assert row["se"] == pytest.approx(3 / 8 * np.sqrt(7 / 12), rel=1e-14)
    z = 1.959963984540054
    assert row["ci_low"] == pytest.approx(3 / 8 * np.exp(-z * np.sqrt(7 / 12)), rel=1e-12)


def test_boolean_event_and_number_at_risk(tiny):
    as_bool = tiny.assign(relapsed=tiny["relapsed"].astype(bool))
    a = kaplan_meier(as_bool, time="days", event="relapsed", group="arm")
    b = kaplan_meier(tiny, time="days", event="relapsed", group="arm")
    pd.testing.assert_frame_equal(a.table, b.table)
    at_risk = b.number_at_risk([0, 2, 5])
    assert at_risk.columns.tolist() == ["group", "time", "n_risk"]
    assert at_risk["n_risk"].tolist() == [6, 5, 3, 6, 5, 2]


def test_missing_rows_are_dropped_and_counted(tiny):
    data = tiny.astype({"days": float}).copy()
    data.loc[0, "days"] = np.nan
    km = kaplan_meier(data, time="days", event="relapsed", group="arm")
    assert km.n_missing == 1
    assert km.table.loc[km.table["group"] == "a", "n_risk"].iloc[0] == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"relapsed": [2] + [1] * 11}, "event column 'relapsed' must be 1"),
        ({"days": [-1] + [1] * 11}, "must not be negative"),
        ({"days": ["x"] * 12}, "time column 'days' holds 12 values that are not a "
                               "number, the first 'x' at row 0"),
    ],
)
def test_bad_input_names_the_column(tiny, change, message):
    with pytest.raises(DataValidationError, match=message):
        kaplan_meier(tiny.assign(**change), time="days", event="relapsed", group="arm")


def test_missing_column_and_bad_options(tiny):
    with pytest.raises(ValueError, match="group column 'treatment' is not in the data"):
        kaplan_meier(tiny, time="days", event="relapsed", group="treatment")
    with pytest.raises(ValueError, match="conf_type"):
        kaplan_meier(tiny, time="days", event="relapsed", conf_type="logit")
    with pytest.raises(ValueError, match="conf_level"):
        kaplan_meier(tiny, time="days", event="relapsed", conf_level=95)


def test_plot_returns_axes(tiny):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    km = kaplan_meier(tiny, time="days", event="relapsed", group="arm")
    assert km.plot(ax=ax) is ax
    assert len(ax.get_lines()) >= 2
    plt.close(fig)
