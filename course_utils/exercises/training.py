"""Exercise checks of notebook 04 (gradient descent and training)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from course_utils.exercises.answers import Case, close_number, run_cases
from course_utils.exercises.feedback import Verdict, exercise


@exercise
def check_gd_step(answer: float | None) -> Verdict:
    """θ after one gradient-descent step on L(θ) = (θ − 3)² from θ = 1 with lr = 0.1.

    >>> check_gd_step(1.4)
    ✓ correct: ∇L(1) = 2(1 − 3) = −4, so θ ← 1 − 0.1 · (−4) = 1.4
    """
    return close_number(
        answer, 1.4, 1e-6, "gd_step.correct",
        hints=[(0.6, "gd_step.along_gradient"), (1.2, "gd_step.factor_two")],
        otherwise="gd_step.not_quite")


@exercise
def check_max_stable_lr(answer: float | None) -> Verdict:
    """The largest learning rate for which gradient descent on L(θ) = 5θ² does not diverge.

    >>> check_max_stable_lr(0.2)
    ✓ correct: θ ← (1 − 10·lr)θ shrinks only while |1 − 10·lr| < 1, i.e. lr < 2/10 = 0.2
    """
    return close_number(
        answer, 0.2, 1e-6, "max_stable_lr.correct",
        hints=[(0.1, "max_stable_lr.one_step"), (0.4, "max_stable_lr.curvature")],
        otherwise="max_stable_lr.not_quite")


@exercise
def check_bits_per_byte(answer: float | None) -> Verdict:
    """Bits per byte of a model with loss 3.0 nats per token on text of 2.5 bytes per token.

    >>> check_bits_per_byte(1.7312)
    ✓ correct: 3.0 / (2.5 · ln 2) ≈ 1.731 bits per byte
    """
    expected = 3.0 / (2.5 * math.log(2))
    return close_number(
        answer, expected, 2e-3, "bits_per_byte.correct",
        hints=[(3.0 / 2.5, "bits_per_byte.nats"), (3.0 / math.log(2), "bits_per_byte.per_token"),
               (3.0 * 2.5 / math.log(2), "bits_per_byte.multiplied")],
        otherwise="bits_per_byte.not_quite")


@exercise
def check_initial_loss(answer: float | None) -> Verdict:
    """The loss an untrained model with a 1,024-token vocabulary should start near.

    >>> check_initial_loss(6.93)
    ✓ correct: a uniform guess gives −ln(1/1024) = ln 1024 ≈ 6.93 nats
    """
    return close_number(
        answer, math.log(1024), 0.01, "initial_loss.correct",
        hints=[(10.0, "initial_loss.bits"), (1 / 1024, "initial_loss.probability")],
        otherwise="initial_loss.not_quite")


def _rounded(result: object) -> object:
    """A (param, buf) pair as a tuple of floats rounded to 10 decimals (else as it is)."""
    if isinstance(result, (str, bytes, Mapping)) or len(result) != 2:  # type: ignore[arg-type]
        return result
    return tuple(round(float(x), 10) for x in result)  # type: ignore[union-attr]


@exercise
def check_momentum_step(momentum_step: Callable | None) -> Verdict:
    """`momentum_step(param, grad, buf, lr, momentum) -> (param, buf)`: one SGD step with
    momentum as PyTorch defines it (buf is None on the first step).

    >>> def momentum_step(param, grad, buf, lr, momentum):
    ...     buf = grad if buf is None else momentum * buf + grad
    ...     return param - lr * buf, buf
    >>> check_momentum_step(momentum_step)
    ✓ correct: momentum_step passes all 3 cases
    """
    cases = [
        Case((1.0, 2.0, None, 0.1, 0.9), (0.8, 2.0)),  # first step: buf = grad
        Case((0.8, 1.0, 2.0, 0.1, 0.9), (0.52, 2.8)),  # buf = 0.9 · 2 + 1 = 2.8; 0.8 − 0.28
        Case((0.0, -1.0, 0.5, 0.5, 0.5), (0.375, -0.75)),  # buf = 0.25 − 1 = −0.75; 0 + 0.375
    ]
    return run_cases(momentum_step, cases, "momentum_step", convert=_rounded)
