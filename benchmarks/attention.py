"""Benchmark the course's attention against torch's fused kernel: time and memory as T grows.

Causal self-attention, float32, CPU, B=1, n_head=4, head size 64, T = 128 ... 2048, through
`course_utils.attention.scaled_dot_product_attention` (which stores the (T, T) score matrix of
every head, as written out in the course) and `torch.nn.functional.scaled_dot_product_attention`
(on CPU a fused, flash-attention style kernel that works on blocks of keys and never stores the
whole matrix).

- time: the median of REPEATS calls after WARMUP calls, in milliseconds (`timing.median_time`).
- peak extra memory: the most bytes that torch's CPU allocator held at any moment during one
  call, above what it held before the call (the output included), read from the allocation
  events of `torch.profiler.profile(profile_memory=True)`. It counts tensors only: not Python
  objects nor memory a kernel gets from outside torch's allocator.

Run it with `python benchmarks/attention.py`. It always exits 0: timings depend on the machine.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from course_utils.attention import scaled_dot_product_attention
from timing import machine, median_time  # benchmarks/timing.py, beside this file

B, N_HEAD, HEAD_SIZE = 1, 4, 64
LENGTHS = (128, 256, 512, 1024, 2048)
WARMUP, REPEATS = 2, 10
MB = 2**20

Attention = Callable[..., torch.Tensor]


def median_ms(fn: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> float:
    """Return the median wall-clock time of fn(q, k, v, is_causal=True), in milliseconds."""
    seconds, _ = median_time(lambda: fn(q, k, v, is_causal=True), repeats=REPEATS, warmup=WARMUP)
    return 1000 * seconds


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Hide output to file descriptor 2: kineto, the profiler's C++ backend, writes a
    "USDT ... profiler_start/stop" line there for every profile and has no switch to stop it."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def peak_extra_mb(fn: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> float:
    """Return the peak of bytes allocated (minus freed) by torch during one call, in MB."""
    with quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn(q, k, v, is_causal=True)
    # Every allocation and free is an event with a signed size; their running sum, in time
    # order, is the memory held at each moment. (The event tree is torch's experimental API.)
    events, stack = [], list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.tag == torch._C._profiler._EventType.Allocation:
            events.append((node.start_time_ns, node.extra_fields.alloc_size))
    held = peak = 0
    for _, size in sorted(events):
        held += size
        peak = max(peak, held)
    return peak / MB


def main() -> None:
    print(f"{machine()}\ncausal self-attention, float32, CPU, B={B}, n_head={N_HEAD}, "
          f"head size {HEAD_SIZE}\ntime = median of {REPEATS} calls after {WARMUP} warm-up "
          f"calls\n")
    header = (f"{'T':>5} | {'scores/head MB':>14} {'x prev':>6} | {'ours ms':>8} {'SDPA ms':>8} "
              f"{'ratio':>6} | {'ours MB':>8} {'SDPA MB':>8} {'ratio':>6} | {'max |diff|':>10}")
    print(header)
    print("-" * len(header))
    generator = torch.Generator().manual_seed(0)
    previous = None
    with torch.no_grad():
        for T in LENGTHS:
            q, k, v = (torch.randn(B, N_HEAD, T, HEAD_SIZE, generator=generator) for _ in range(3))
            scores_mb = T * T * 4 / MB  # one head's (T, T) float32 score matrix
            growth = f"{scores_mb / previous:6.1f}" if previous else f"{'':>6}"
            previous = scores_mb
            ours_ms = median_ms(scaled_dot_product_attention, q, k, v)
            sdpa_ms = median_ms(F.scaled_dot_product_attention, q, k, v)
            ours_mb = peak_extra_mb(scaled_dot_product_attention, q, k, v)
            sdpa_mb = peak_extra_mb(F.scaled_dot_product_attention, q, k, v)
            diff = (scaled_dot_product_attention(q, k, v, is_causal=True)
                    - F.scaled_dot_product_attention(q, k, v, is_causal=True)).abs().max().item()
            print(f"{T:>5} | {scores_mb:>14.3f} {growth} | {ours_ms:>8.2f} {sdpa_ms:>8.2f} "
                  f"{ours_ms / sdpa_ms:>6.1f} | {ours_mb:>8.2f} {sdpa_mb:>8.2f} "
                  f"{ours_mb / sdpa_mb:>6.1f} | {diff:>10.1e}")
    output_mb = B * N_HEAD * LENGTHS[-1] * HEAD_SIZE * 4 / MB
    print(f"\nratio = ours / SDPA. Peak memory includes the output ({output_mb:.0f} MB at "
          f"T={LENGTHS[-1]}).\nOurs holds a few (B, n_head, T, T) tensors at once (scores, "
          f"masked scores, softmax), so it grows ~4x\nper doubling of T; SDPA's grows ~2x, "
          f"like the output: it never stores the score matrix.")


if __name__ == "__main__":
    main()
