"""Identical results whatever the backend and worker count; resuming from a results file."""

import dataclasses

import pandas as pd
import pytest

from ketex.simulate import TrialDesign
from ketex.simulate.analyses import MMRMAnalysis
from ketex.simulate.backends import run_tasks
from ketex.simulate.power import power

DESIGN = TrialDesign()
# two small sizes, two visits: quick fits, and at 8 per arm with dropout a failed fit now
# and then, which must fail the same way everywhere
RUN = dict(n_per_arm=[8, 14], n_sims=5, seed=42, progress=False,
           analysis=MMRMAnalysis(visits=("WEEK4", "WEEK12")))


@pytest.fixture(scope="module")
def serial():
    return power(DESIGN, backend="serial", **RUN)


def _same(one, other):
    pd.testing.assert_frame_equal(one.simulations, other.simulations, check_exact=True)
    pd.testing.assert_frame_equal(one.summary, other.summary, check_exact=True)


def test_serial_run_is_complete(serial):
    sims = serial.simulations
    assert len(sims) == 2 * 2 * 5
    assert sims["estimate"].notna().sum() >= 15


def test_local_processes_give_identical_results(serial):
    # two workers get batches of 3 simulations, the serial run batches of 5
    _same(serial, power(DESIGN, backend="processes", n_jobs=2, **RUN))


def test_dask_cluster_gives_identical_results(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            _same(serial, power(DESIGN, backend="dask", client=client, **RUN))
            _same(serial, power(DESIGN, backend="dask", **RUN))  # the current client
        # a scheduler address: ketex opens and closes its own client
        _same(serial, power(DESIGN, backend="dask", client=cluster.scheduler_address, **RUN))


def test_dask_without_a_client_says_what_to_do():
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="no Dask client in this session"):
        run_tasks(pow, [(2, 3)], print, backend="dask")


def test_resume_runs_only_what_is_missing_and_gives_the_same_results(serial, tmp_path):
    path = tmp_path / "sims.csv"
    first = power(DESIGN, backend="serial", results_file=path, **{**RUN, "n_sims": 3})
    assert len(pd.read_csv(path)) == 2 * 2 * 3
    # cut the last line short, as a crash while writing would
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    calls = []
    resumed = power(DESIGN, backend="serial", results_file=path,
                    **{**RUN, "analysis": _Counting(RUN["analysis"], calls)})
    # 8 new simulations, plus the one whose line was cut
    assert len(calls) == 2 * 2 * 2 + 1
    _same(serial, dataclasses.replace(resumed, analysis=serial.analysis))
    # asking for fewer uses the file alone
    again = power(DESIGN, backend="serial", results_file=path, **{**RUN, "n_sims": 3})
    _same(first, again)


@dataclasses.dataclass(frozen=True)
class _Counting:
    """The MMRM analysis, counting the simulations it runs (same fingerprint as RUN's)."""

    inner: MMRMAnalysis
    calls: list

    def __repr__(self):
        return repr(self.inner)

    def prepare(self, design):
        return _Counting(self.inner.prepare(design), self.calls)

    def __call__(self, trial):
        raise AssertionError("the fast path is used")

    def simulate_and_analyse(self, design, seed):
        self.calls.append(seed)
        return self.inner.simulate_and_analyse(design, seed)

    def true_value(self, design, seed=0):
        return self.inner.true_value(design, seed)

    control = property(lambda self: self.inner.control)
    null_value = 0.0
    extra_keys = ("df",)


def test_a_results_file_from_another_run_is_refused(tmp_path):
    path = tmp_path / "sims.csv"
    power(DESIGN, backend="serial", results_file=path, **{**RUN, "n_sims": 1})
    with pytest.raises(ValueError, match="holds simulations of another design, analysis"):
        power(DESIGN, backend="serial", results_file=path, **{**RUN, "seed": 43})
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a ketex power results file"):
        power(DESIGN, backend="serial", results_file=other, **RUN)
