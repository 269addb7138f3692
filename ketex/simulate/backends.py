"""Where the simulations of a power analysis run: this process, local processes, or Dask.

:func:`run_tasks` calls ``function(*task)`` for every task and hands each result to
``on_result`` as it arrives (in any order). Results do not depend on the backend: every
simulation carries its own seed, and the caller sorts them.

- ``"serial"``: one after the other in this process.
- ``"processes"``: a pool of local worker processes (joblib's loky backend): fresh
  processes, reused between calls; functions defined in a notebook or a script work.
- ``"dask"``: a Dask distributed cluster: a ``distributed.Client``, a scheduler address
  such as ``"tcp://10.0.0.5:8786"``, or None for the client already made in this
  session. ketex must be installed on the workers.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["BACKENDS", "Progress", "default_workers", "one_blas_thread", "run_tasks"]

BACKENDS = ("processes", "serial", "dask")


def default_workers() -> int:
    """CPUs this process may use (``os.sched_getaffinity`` where it exists).

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread (when threadpoolctl is installed).

    The matrices of one MMRM fit are small: a multi-threaded BLAS spends more time
    synchronising its threads than computing (about half the time of a simulation on a
    2-core machine), and the workers already use every core.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def run_tasks(
    function: Callable[..., Any],
    tasks: Sequence[tuple],
    on_result: Callable[[Any], None],
    *,
    backend: str = "processes",
    n_jobs: int | None = None,
    client: Any = None,
) -> None:
    """Run ``function(*task)`` for each task; pass each result to ``on_result``.

    Parameters
    ----------
    function : callable
        A module-level function (it is pickled to the workers).
    tasks : sequence of tuple
        Arguments of each call.
    on_result : callable
        Called in this process with each result, as results arrive.
    backend : {"processes", "serial", "dask"}
    n_jobs : int, optional
        Worker processes for ``"processes"`` (default: the CPUs available); 1 runs
        serially. Ignored by the other backends.
    client : distributed.Client or str, optional
        For ``"dask"``: the client, or the scheduler's address.

    Raises
    ------
    ValueError
        An unknown backend, or ``"dask"`` with no client to use.

    Examples
    --------
    >>> out = []
    >>> run_tasks(pow, [(2, 3), (3, 2)], out.append, backend="serial")
    >>> out
    [8, 9]
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if not tasks:
        return
    if backend == "dask":
        _run_dask(function, tasks, on_result, client)
        return
    workers = default_workers() if n_jobs is None else n_jobs
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"n_jobs must be a positive whole number or None, got {n_jobs!r}")
    if backend == "serial" or workers == 1 or len(tasks) == 1:
        for task in tasks:
            on_result(function(*task))
        return
    # joblib's loky workers get the function by value (cloudpickle), so a function
    # defined in a notebook or a script without `if __name__ == "__main__"` works, and
    # they are reused from one call to the next
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=min(workers, len(tasks)), backend="loky",
                        return_as="generator_unordered")
    for result in parallel(delayed(function)(*task) for task in tasks):
        on_result(result)


def _run_dask(function, tasks, on_result, client) -> None:
    try:
        import distributed
    except ImportError:
        raise ValueError("backend='dask' needs Dask distributed: pip install "
                         "'dask[distributed]'") from None
    owned = None
    if client is None:
        try:
            client = distributed.get_client()
        except ValueError:
            raise ValueError("backend='dask': no Dask client in this session; give "
                             "client=distributed.Client(...) or a scheduler address such "
                             "as 'tcp://host:8786'") from None
    elif isinstance(client, str):
        client = owned = distributed.Client(client)
    elif not isinstance(client, distributed.Client):
        raise ValueError(f"client must be a distributed.Client or a scheduler address, "
                         f"got {type(client).__name__}")
    try:
        futures = [client.submit(function, *task, pure=False) for task in tasks]
        try:
            for future in distributed.as_completed(futures):
                on_result(future.result())
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        if owned is not None:
            owned.close()


class Progress:
    """A minimal progress bar on standard error: done/total, rate, time left.

    On a terminal the line is redrawn in place (at most every 0.2 s); elsewhere (a log
    file) a line is written every 10 % of the way.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> bar = Progress(4, stream=stream, label="trials")
    >>> bar.update(2); bar.update(2); bar.close()
    >>> stream.getvalue().splitlines()[-1].startswith("trials: 4/4")
    True
    """

    def __init__(self, total: int, *, enabled: bool = True, stream=None,
                 label: str = "simulations") -> None:
        self.total = total
        self.done = 0
        self.enabled = enabled and total > 0
        self.stream = sys.stderr if stream is None else stream
        self.label = label
        self.start = time.perf_counter()
        self.shown = -1.0
        self.tenth = -1
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, count: int) -> None:
        """Record ``count`` more done."""
        self.done += count
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.terminal:
            if now - self.shown >= 0.2 or self.done >= self.total:
                self.stream.write("\r" + self._line(now))
                self.stream.flush()
                self.shown = now
        else:
            tenth = 10 * self.done // self.total
            if tenth > self.tenth:
                self.stream.write(self._line(now) + "\n")
                self.stream.flush()
                self.tenth = tenth

    def _line(self, now: float) -> str:
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        width = 24
        filled = int(width * self.done / self.total)
        return (f"{self.label}: {self.done}/{self.total} [{'#' * filled}{'.' * (width - filled)}]"
                f" {rate:.1f}/s, {_clock(elapsed)} elapsed, {_clock(left)} left")

    def close(self) -> None:
        """End the line."""
        if self.enabled and self.terminal:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
