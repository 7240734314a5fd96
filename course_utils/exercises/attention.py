"""Exercise checks of notebook 03 (attention): the numbers and masks worked by hand.

`check_attention_weights`, `check_stable_softmax`, `check_causal_mask`, `check_split_heads` and
`check_gpt2_parameters` are earlier exercises, kept for learners' copies of the notebook.
`course_utils.exercises.attention_build` holds the checks of what the learner builds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from course_utils.exercises.answers import call, close_number, number_list
from course_utils.exercises.feedback import (Refusal, Verdict, correct, describe, exercise,
                                             wrong)


def _gpt2_parameters(V: int, T: int, L: int, C: int) -> int:
    """GPT-2's parameters: wte, wpe, L blocks and ln_f (the LM head is tied to wte)."""
    block = 2 * 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * 4 * C + 4 * C) + (4 * C * C + C)
    return V * C + T * C + L * block + 2 * C


def _parameter_count(answer: object, L: int, C: int, correct_code: str, otherwise: str,
                     more_hints: Sequence[tuple[float, str]] = ()) -> Verdict:
    """Judge a count of the parameters of GPT-2 with L layers of width C (vocab 50,257, block
    1,024), with a hint for each part commonly miscounted."""
    V, T = 50257, 1024
    expected = _gpt2_parameters(V, T, L, C)
    return close_number(
        answer, expected, 0, correct_code,
        hints=[(expected + V * C, "gpt2_parameters.lm_head"),  # the tied head counted twice
               (expected - T * C, "gpt2_parameters.wpe"),
               (expected - 2 * C * (2 * L + 1), "gpt2_parameters.layernorms"), *more_hints],
        otherwise=otherwise)


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
    return _parameter_count(answer, 12, 768, "gpt2_parameters.correct",
                            "gpt2_parameters.not_quite")


@exercise
def check_query_weights(weights: Sequence[float] | None) -> Verdict:
    """The weights of a fourth query, q = [0, 0, 2, 1], over the three keys of the notebook's
    hand-worked example: softmax([2, 1, 3] / sqrt(4)).

    >>> check_query_weights([0.307, 0.186, 0.506])
    ✓ correct: softmax([1.0, 0.5, 1.5]) = [0.307, 0.186, 0.506]
    """
    expected = _softmax([1.0, 0.5, 1.5])  # q · k_j = 2, 1, 3, divided by sqrt(4)
    got = number_list(weights, 3, not_numbers="attention_weights.not_numbers",
                      wrong_count="attention_weights.count")
    if all(abs(g - r) < 0.005 for g, r in zip(got, expected, strict=True)):
        return correct("query_weights.correct", weights=", ".join(f"{e:.3f}" for e in expected))
    if all(abs(g - r) < 0.005 for g, r in zip(got, _softmax([2.0, 1.0, 3.0]), strict=True)):
        return wrong("query_weights.unscaled")
    if abs(sum(got) - 1) > 0.01:
        return wrong("attention_weights.sum", total=sum(got))
    return wrong("query_weights.not_quite")


@exercise
def check_sliding_window_mask(sliding_window_mask: Callable[[int, int], Any] | None) -> Verdict:
    """`sliding_window_mask(T, window)`: a (T, T) boolean tensor, True where query i may attend
    to key j, that is where 0 <= i - j < window.

    >>> import torch
    >>> def sliding_window_mask(T, window):
    ...     i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    ...     return (j <= i) & (i - j < window)
    >>> check_sliding_window_mask(sliding_window_mask)
    ✓ correct: sliding_window_mask passes all 4 cases
    """
    import torch

    if not callable(sliding_window_mask):
        return wrong("not_a_function", type=type(sliding_window_mask).__name__)
    cases = ((5, 2), (6, 3), (4, 1), (3, 5))
    for T, window in cases:
        i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
        expected = (j <= i) & (i - j < window)
        got, _ = call(sliding_window_mask, "sliding_window_mask", (T, window))
        params = {"T": T, "window": window}
        if not isinstance(got, torch.Tensor):
            return wrong("window_mask.not_a_tensor", type=type(got).__name__)
        if got.dtype != torch.bool:
            return wrong("window_mask.not_bool", dtype=str(got.dtype))
        if tuple(got.shape) != (T, T):
            return wrong("window_mask.shape", shape=str(tuple(got.shape)), **params)
        if _equal(got, expected):
            continue
        if _equal(got, ~expected):
            return wrong("window_mask.inverted")
        if _equal(got, expected.T):
            return wrong("window_mask.transposed")
        if _equal(got, (j <= i) & (i - j <= window)):
            return wrong("window_mask.one_too_many", window=window, previous=window - 1)
        if _equal(got, (i - j).abs() < window) or _equal(got, (i - j).abs() <= window):
            return wrong("window_mask.not_causal")
        return wrong("window_mask.wrong", **params)
    return correct("window_mask.correct", count=len(cases))


@exercise
def check_gpt2_medium_parameters(answer: int | None) -> Verdict:
    """GPT-2 medium's parameters (vocab 50,257, block 1,024, 24 layers, 16 heads, n_embd 1,024).

    >>> check_gpt2_medium_parameters(354_823_168)
    ✓ correct: 354,823,168 parameters (the LM head shares the token embedding)
    """
    small = _gpt2_parameters(50257, 1024, 12, 768)
    return _parameter_count(answer, 24, 1024, "medium_parameters.correct",
                            "medium_parameters.not_quite", [(small, "medium_parameters.small")])
