"""Exercise checks of notebook 04 (gradient descent and training)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from course_utils.exercises._feedback import _close_number, _run_cases


def check_gd_step(answer: float | None) -> None:
    """θ after one gradient-descent step on L(θ) = (θ − 3)² from θ = 1 with α = 0.1.

    >>> check_gd_step(1.4)
    ✓ correct: ∇L(1) = 2(1 − 3) = −4, so θ ← 1 − 0.1 · (−4) = 1.4
    """
    return _close_number(
        answer, 1.4, 1e-6, "∇L(1) = 2(1 − 3) = −4, so θ ← 1 − 0.1 · (−4) = 1.4",
        hints=[(0.6, "you stepped along the gradient: the update subtracts α∇L, moving downhill"),
               (1.2, "the derivative of (θ − 3)² is 2(θ − 3): don't drop the factor 2")],
        otherwise="compute ∇L(1) = 2(1 − 3) first, then θ − α∇L")


def check_max_stable_lr(answer: float | None) -> None:
    """The largest learning rate for which gradient descent on L(θ) = 5θ² does not diverge.

    >>> check_max_stable_lr(0.2)
    ✓ correct: θ ← (1 − 10α)θ shrinks only while |1 − 10α| < 1, i.e. α < 2/10 = 0.2
    """
    return _close_number(
        answer, 0.2, 1e-6, "θ ← (1 − 10α)θ shrinks only while |1 − 10α| < 1, i.e. α < 2/10 = 0.2",
        hints=[(0.1, "α = 0.1 lands on the minimum in one step (1 − 10α = 0); larger α still "
                     "converges, oscillating, until |1 − 10α| reaches 1"),
               (0.4, "the curvature is L'' = 10, not 5: the limit is 2 / L''")],
        otherwise="write one step as θ ← (1 − αL'')θ with L'' = 10, and ask when |1 − αL''| < 1")


def check_bits_per_byte(answer: float | None) -> None:
    """Bits per byte of a model with loss 3.0 nats per token on text of 2.5 bytes per token.

    >>> check_bits_per_byte(1.7312)
    ✓ correct: 3.0 / (2.5 · ln 2) ≈ 1.731 bits per byte
    """
    expected = 3.0 / (2.5 * math.log(2))
    return _close_number(
        answer, expected, 2e-3, f"3.0 / (2.5 · ln 2) ≈ {expected:.3f} bits per byte",
        hints=[(3.0 / 2.5, "that is nats per byte: divide by ln 2 to get bits"),
               (3.0 / math.log(2), "that is bits per token: divide by the bytes per token too"),
               (3.0 * 2.5 / math.log(2), "divide by the bytes per token, don't multiply")],
        otherwise="bits per byte = loss per token / bytes per token / ln 2")


def check_initial_loss(answer: float | None) -> None:
    """The loss an untrained model with a 1,024-token vocabulary should start near.

    >>> check_initial_loss(6.93)
    ✓ correct: a uniform guess gives −ln(1/1024) = ln 1024 ≈ 6.93 nats
    """
    return _close_number(
        answer, math.log(1024), 0.01, "a uniform guess gives −ln(1/1024) = ln 1024 ≈ 6.93 nats",
        hints=[(10.0, "that is log₂ 1024 (bits); PyTorch's cross-entropy uses the natural log"),
               (1 / 1024, "that is the probability of each token; the loss is −ln of it")],
        otherwise="an untrained model spreads probability evenly: loss = −ln(1 / vocab_size)")


def check_momentum_step(momentum_step: Callable | None) -> None:
    """`momentum_step(param, grad, buf, lr, momentum) -> (param, buf)`: one SGD step with
    momentum as PyTorch defines it (buf is None on the first step).

    >>> def momentum_step(param, grad, buf, lr, momentum):
    ...     buf = grad if buf is None else momentum * buf + grad
    ...     return param - lr * buf, buf
    >>> check_momentum_step(momentum_step)
    ✓ correct: momentum_step passes all 3 cases
    """
    cases = [
        ((1.0, 2.0, None, 0.1, 0.9), (0.8, 2.0)),  # first step: buf = grad
        ((0.8, 1.0, 2.0, 0.1, 0.9), (0.52, 2.8)),  # buf = 0.9 · 2 + 1 = 2.8; 0.8 − 0.28
        ((0.0, -1.0, 0.5, 0.5, 0.5), (0.375, -0.75)),  # buf = 0.25 − 1 = −0.75; 0 + 0.375
    ]

    def rounded(result: Any) -> Any:
        return tuple(round(float(x), 10) for x in result)

    return _run_cases(momentum_step, cases, "momentum_step", convert=rounded)
