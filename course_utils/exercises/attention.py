"""Exercise checks of notebook 03 (attention)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from course_utils.exercises.answers import call, close_number, number_list
from course_utils.exercises.feedback import (Refusal, Verdict, correct, describe, exercise,
                                             wrong)


def _softmax(scores: list[float]) -> list[float]:
    return [math.exp(s) / sum(math.exp(t) for t in scores) for s in scores]


@exercise
def check_attention_weights(weights: Sequence[float] | None) -> Verdict:
    """The attention weights of the third token ("sat") in the notebook's hand-worked example.

    Its scaled scores are [0.5, 0.5, 1.0], so the weights are softmax([0.5, 0.5, 1.0]).

    >>> check_attention_weights([0.274, 0.274, 0.452])
    ✓ correct: softmax([0.5, 0.5, 1.0]) = [0.274, 0.274, 0.452]
    """
    expected = _softmax([0.5, 0.5, 1.0])  # (q3 · k_j) / sqrt(4) for j = 1, 2, 3
    unscaled = _softmax([1.0, 1.0, 2.0])  # the common slip: q3 · k_j without the scaling
    got = number_list(weights, 3, not_numbers="attention_weights.not_numbers",
                      wrong_count="attention_weights.count")

    def matches(reference: list[float]) -> bool:
        return all(abs(g - r) < 0.005 for g, r in zip(got, reference, strict=True))

    if matches(expected):
        return correct("attention_weights.correct",
                       weights=", ".join(f"{e:.3f}" for e in expected))
    if matches(unscaled):
        return wrong("attention_weights.unscaled")
    if abs(sum(got) - 1) > 0.01:
        return wrong("attention_weights.sum", total=sum(got))
    return wrong("attention_weights.not_quite")


@exercise
def check_stable_softmax(softmax: Callable | None) -> Verdict:
    """`softmax(x)` over the last axis of a NumPy array, without overflow.

    >>> import numpy as np
    >>> def softmax(x):
    ...     z = np.exp(x - x.max(axis=-1, keepdims=True))
    ...     return z / z.sum(axis=-1, keepdims=True)
    >>> check_stable_softmax(softmax)
    ✓ correct: softmax passes all 5 cases
    """
    import numpy as np

    if not callable(softmax):
        return wrong("not_a_function", type=type(softmax).__name__)
    e = np.exp(1.0)
    cases = [
        (np.array([0.0, 0.0]), [0.5, 0.5]),
        (np.array([1.0, 0.0, 1.0]), [e / (2 * e + 1), 1 / (2 * e + 1), e / (2 * e + 1)]),
        (np.array([1000.0, 1000.0]), [0.5, 0.5]),  # exp(1000) overflows: subtract the max first
        (np.array([0.0, -np.inf]), [1.0, 0.0]),  # a masked score gets weight 0
        (np.array([[0.0, 0.0], [1000.0, 0.0]]), [[0.5, 0.5], [1.0, 0.0]]),  # each row alone
    ]
    for x, expected in cases:
        with np.errstate(all="ignore"):  # the overflow is the lesson, not a warning to print
            got, shown = call(softmax, "softmax", (x,), shown=repr(x.tolist()))
        try:  # compare as arrays, not lists: a learner's answer is an array
            array = np.asarray(got)
            numeric = array.dtype.kind in "biuf"
            ok = numeric and array.shape == np.shape(expected) and bool(
                np.allclose(array.astype(float), expected, atol=1e-6))
            got = array.astype(float).round(4).tolist() if numeric and array.size <= 50 else got
        except Exception:  # not numbers at all
            ok = False
        if not ok:
            return wrong("returned", name="softmax", args=shown, got=describe(got),
                         expected=describe(np.round(expected, 4).tolist()))
    return correct("all_cases_pass", name="softmax", count=len(cases))


def _equal(a: Any, b: Any) -> bool:
    """torch.equal, False instead of an error (another device, another dtype)."""
    import torch

    try:
        return bool(torch.equal(a, b))
    except Exception:
        return False


@exercise
def check_causal_mask(causal_mask: Callable[[int], Any] | None) -> Verdict:
    """`causal_mask(T)`: a (T, T) boolean tensor, True where position i may attend to j.

    >>> import torch
    >>> check_causal_mask(lambda T: torch.ones(T, T, dtype=torch.bool).tril())
    ✓ correct: causal_mask passes all 3 sizes
    """
    import torch

    if not callable(causal_mask):
        return wrong("not_a_function", type=type(causal_mask).__name__)
    sizes = (1, 4, 7)
    for size in sizes:
        expected = torch.ones(size, size, dtype=torch.bool).tril()
        got, _ = call(causal_mask, "causal_mask", (size,))
        if not isinstance(got, torch.Tensor):
            return wrong("causal_mask.not_a_tensor", type=type(got).__name__)
        if got.dtype != torch.bool:
            return wrong("causal_mask.not_bool", dtype=str(got.dtype))
        if tuple(got.shape) != (size, size):
            return wrong("causal_mask.shape", size=size, shape=str(tuple(got.shape)))
        if _equal(got, expected.T) and size > 1:
            return wrong("causal_mask.transposed")
        if _equal(got, ~expected):
            return wrong("causal_mask.inverted")
        if not _equal(got, expected):
            return wrong("causal_mask.wrong", size=size)
    return correct("causal_mask.correct", count=len(sizes))


@exercise
def check_split_heads(split_heads: Callable | None) -> Verdict:
    """`split_heads(x, n_head)`: (B, T, C) -> (B, n_head, T, C // n_head), each head a slice
    of the channels.

    >>> check_split_heads(lambda x, n: x.view(x.shape[0], x.shape[1], n, -1).transpose(1, 2))
    ✓ correct: split_heads gives (B, n_head, T, head_size) with each head's channels in place
    """
    import torch

    if not callable(split_heads):
        return wrong("not_a_function", type=type(split_heads).__name__)
    x = torch.arange(2 * 3 * 8, dtype=torch.float32).view(2, 3, 8)  # B=2, T=3, C=8
    expected = x.view(2, 3, 4, 2).transpose(1, 2)  # n_head=4, head_size=2
    try:
        got, _ = call(split_heads, "split_heads", (x, 4))
    except Refusal as refusal:  # said without the arguments, which the docstring shows
        return wrong("split_heads.raised", error=refusal.verdict.params["error"])
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (2, 4, 3, 2):
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return wrong("split_heads.shape", shape=str(shape))
    if _equal(got, x.view(2, 4, 3, 2)):
        return wrong("split_heads.mixes_tokens")
    if not _equal(got, expected):
        return wrong("split_heads.wrong_values")
    return correct("split_heads.correct")


@exercise
def check_gpt2_parameters(answer: int | None) -> Verdict:
    """How many parameters has GPT-2 small (vocab 50,257, block 1,024, 12 layers, 12 heads, 768)?

    >>> check_gpt2_parameters(124_439_808)
    ✓ correct: 124,439,808 parameters (the LM head shares the token embedding)
    """
    V, T, L, C = 50257, 1024, 12, 768
    embeddings = V * C + T * C
    block = 2 * 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * 4 * C + 4 * C) + (4 * C * C + C)
    expected = embeddings + L * block + 2 * C  # + the final LayerNorm
    return close_number(
        answer, expected, 0, "gpt2_parameters.correct",
        hints=[(expected + V * C, "gpt2_parameters.lm_head"),
               (expected - T * C, "gpt2_parameters.wpe"),
               (expected - 2 * C * (2 * L + 1), "gpt2_parameters.layernorms")],
        otherwise="gpt2_parameters.not_quite")
