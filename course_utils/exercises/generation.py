"""Exercise checks of notebook 05 (generation)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from course_utils.exercises._feedback import NOT_ATTEMPTED, _close_number, _report, _run_cases


def check_temperature(answer: float | None) -> None:
    """The probability of the first token when logits [2, 1, 0] are sampled at temperature 0.5.

    >>> check_temperature(0.8668)
    ✓ correct: softmax([2, 1, 0] / 0.5) = softmax([4, 2, 0]); e⁴ / (e⁴ + e² + 1) ≈ 0.8668
    """
    def first(logits: Sequence[float]) -> float:
        return math.exp(logits[0]) / sum(math.exp(x) for x in logits)

    return _close_number(
        answer, first([4, 2, 0]), 1e-3,
        "softmax([2, 1, 0] / 0.5) = softmax([4, 2, 0]); e⁴ / (e⁴ + e² + 1) ≈ 0.8668",
        hints=[(first([2, 1, 0]), "that is temperature 1: divide the logits by 0.5 first"),
               (first([1, 0.5, 0]), "you multiplied by the temperature: divide the logits by it"),
               (4 / 6, "softmax exponentiates: e⁴ / (e⁴ + e² + e⁰), not 4 / (4 + 2 + 0)")],
        otherwise="divide the logits by the temperature, then take the softmax")


def check_nucleus_size(answer: int | None) -> None:
    """How many tokens top-p sampling with p = 0.9 keeps from probabilities [0.5, 0.3, 0.15, 0.05].

    >>> check_nucleus_size(3)
    ✓ correct: 0.5 + 0.3 = 0.8 < 0.9, and adding 0.15 reaches 0.95 ≥ 0.9: three tokens
    """
    return _close_number(
        answer, 3, 0, "0.5 + 0.3 = 0.8 < 0.9, and adding 0.15 reaches 0.95 ≥ 0.9: three tokens",
        hints=[(2, "0.5 + 0.3 = 0.8 is still below 0.9: the nucleus must reach p, so one more"),
               (4, "the last token is not needed: the first three already sum to 0.95 ≥ 0.9"),
               (1, "top-p keeps tokens until their probabilities sum to at least p")],
        otherwise="sort from most likely, add probabilities until the sum reaches 0.9")


def check_repetition_penalty(answer: Sequence[float] | None) -> None:
    """Logits [2.0, -1.0] of two tokens already in the text, after a repetition penalty of 1.25.

    >>> check_repetition_penalty([1.6, -1.25])
    ✓ correct: a positive logit is divided by 1.25 (2.0 → 1.6), a negative one multiplied (−1.0 → −1.25): both tokens become less likely
    """
    if answer is None:
        return _report(None, NOT_ATTEMPTED)
    try:
        values = [float(x) for x in answer]
    except (TypeError, ValueError):
        return _report(False, "give the two new logits as a list, e.g. [1.0, -1.0]")
    if len(values) != 2:
        return _report(False, f"give two logits, got {len(values)}")

    def near(expected: Sequence[float]) -> bool:
        return all(abs(v - e) <= 1e-6 for v, e in zip(values, expected))

    if near([1.6, -1.25]):
        return _report(True, "correct: a positive logit is divided by 1.25 (2.0 → 1.6), a negative "
                             "one multiplied (−1.0 → −1.25): both tokens become less likely")
    if near([1.6, -0.8]):
        return _report(False, "dividing −1.0 by 1.25 gives −0.8, which makes that token *more* "
                              "likely: negative logits are multiplied instead")
    if near([2.5, -1.25]):
        return _report(False, "multiplying 2.0 makes it more likely: positive logits are divided")
    return _report(False, "positive logits are divided by the penalty, negative ones multiplied")


def check_kv_cache_floats(answer: int | None) -> None:
    """How many numbers the KV cache of the reference model (4 layers, n_embd = 128) holds for
    one sequence of 128 tokens.

    >>> check_kv_cache_floats(131072)
    ✓ correct: keys and values (2) × 4 layers × 128 tokens × 128 dimensions = 131,072 (512 KiB in float32)
    """
    return _close_number(
        answer, 2 * 4 * 128 * 128, 0,
        "keys and values (2) × 4 layers × 128 tokens × 128 dimensions = 131,072 "
        "(512 KiB in float32)",
        hints=[(4 * 128 * 128, "that counts keys or values, not both"),
               (2 * 128 * 128, "every layer has its own keys and values: multiply by 4 layers"),
               (2 * 4 * 4 * 128 * 128, "the 4 heads split the 128 dimensions (32 each): don't "
                                       "multiply by the number of heads"),
               (2 * 4 * 128 * 128 * 4, "that is bytes in float32: the question asks for numbers")],
        otherwise="each layer keeps a key and a value vector of n_embd numbers per token")


def check_top_k_filter(top_k_filter: Callable | None) -> None:
    """`top_k_filter(scores, k)`: scores (B, V) with -inf everywhere except each row's k largest.

    >>> import torch
    >>> def top_k_filter(scores, k):
    ...     kth = scores.topk(k).values[:, -1:]
    ...     return scores.masked_fill(scores < kth, float("-inf"))
    >>> check_top_k_filter(top_k_filter)
    ✓ correct: top_k_filter passes all 3 cases
    """
    import torch

    from course_utils.generation import top_k_filter as reference

    scores = [torch.tensor([[1.0, 3.0, 2.0, 0.5]]),
              torch.tensor([[0.1, -2.0, 4.0, 3.5, 1.0], [5.0, 4.0, 3.0, 2.0, 1.0]]),
              torch.tensor([[-1.0, -3.0, -2.0]])]
    cases = [((s, k), reference(s, k).tolist()) for s, k in zip(scores, (2, 3, 1))]

    def as_lists(result: Any) -> Any:
        return result.tolist() if isinstance(result, torch.Tensor) else result

    return _run_cases(top_k_filter, cases, "top_k_filter", convert=as_lists)
