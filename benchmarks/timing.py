"""Timing for the benchmarks: one way to time a call, shared by every benchmark file.

    from timing import best_time, median_time, machine, verdict

(The benchmarks run as scripts, `python benchmarks/bpe.py`, so this folder is on sys.path.)
Timings depend on the machine and on whatever else runs on it: every benchmark prints
`machine()` first, and compares implementations side by side in one run, as ratios.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


def _timed(fn: Callable[[], _T], repeats: int, warmup: int) -> tuple[list[float], _T]:
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats}, {warmup}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def best_time(fn: Callable[[], _T], repeats: int = 3, warmup: int = 0) -> tuple[float, _T]:
    """Return (the fastest of `repeats` wall-clock timings of fn(), in seconds, fn's last result).

    The fastest run is the one least disturbed by other work on the machine.
    """
    times, result = _timed(fn, repeats, warmup)
    return min(times), result


def median_time(fn: Callable[[], _T], repeats: int = 10, warmup: int = 2) -> tuple[float, _T]:
    """Return (the median of `repeats` timings of fn() after `warmup` untimed calls, fn's result)."""
    times, result = _timed(fn, repeats, warmup)
    return statistics.median(times), result


def machine() -> str:
    """One line about the machine the numbers come from: cores, torch threads, load."""
    line = f"{os.cpu_count()} CPU cores"
    try:
        import torch

        line += f", torch {torch.__version__} with {torch.get_num_threads()} threads"
    except ImportError:
        pass
    if hasattr(os, "getloadavg"):
        line += ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return line


def verdict(ok: bool) -> str:
    """PASS or FAIL against a benchmark's target (benchmarks print it and always exit 0)."""
    return "PASS" if ok else "FAIL"
