"""Exercise checks of notebook 05 (generation)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from course_utils.exercises.answers import Case, close_number, number_list, run_cases
from course_utils.exercises.feedback import Verdict, correct, exercise, wrong


def _first_probability(logits: Sequence[float]) -> float:
    return math.exp(logits[0]) / sum(math.exp(x) for x in logits)


@exercise
def check_temperature(answer: float | None) -> Verdict:
    """The probability of the first token when logits [2, 1, 0] are sampled at temperature 0.5.

    >>> check_temperature(0.8668)
    ✓ correct: softmax([2, 1, 0] / 0.5) = softmax([4, 2, 0]); e⁴ / (e⁴ + e² + 1) ≈ 0.8668
    """
    return close_number(
        answer, _first_probability([4, 2, 0]), 1e-3, "temperature.correct",
        hints=[(_first_probability([2, 1, 0]), "temperature.temperature_one"),
               (_first_probability([1, 0.5, 0]), "temperature.multiplied"),
               (4 / 6, "temperature.no_exp")],
        otherwise="temperature.not_quite")


@exercise
def check_nucleus_size(answer: int | None) -> Verdict:
    """How many tokens top-p sampling with p = 0.9 keeps from probabilities [0.5, 0.3, 0.15, 0.05].

    >>> check_nucleus_size(3)
    ✓ correct: 0.5 + 0.3 = 0.8 < 0.9, and adding 0.15 reaches 0.95 ≥ 0.9: three tokens
    """
    return close_number(
        answer, 3, 0, "nucleus_size.correct",
        hints=[(2, "nucleus_size.two"), (4, "nucleus_size.four"), (1, "nucleus_size.one")],
        otherwise="nucleus_size.not_quite")


@exercise
def check_repetition_penalty(answer: Sequence[float] | None) -> Verdict:
    """Logits [2.0, -1.0] of two tokens already in the text, after a repetition penalty of 1.25.

    >>> check_repetition_penalty([1.6, -1.25])
    ✓ correct: 2.0 / 1.25 = 1.6 and −1.0 × 1.25 = −1.25: both tokens become less likely
    """
    values = number_list(answer, 2, not_numbers="repetition_penalty.not_numbers",
                         wrong_count="repetition_penalty.count")

    def near(expected: Sequence[float]) -> bool:
        return all(abs(v - e) <= 1e-6 for v, e in zip(values, expected, strict=True))

    if near([1.6, -1.25]):
        return correct("repetition_penalty.correct")
    if near([1.6, -0.8]):
        return wrong("repetition_penalty.negative_divided")
    if near([2.5, -1.25]):
        return wrong("repetition_penalty.positive_multiplied")
    return wrong("repetition_penalty.not_quite")


@exercise
def check_kv_cache_floats(answer: int | None) -> Verdict:
    """How many numbers the KV cache of the reference model (4 layers, n_embd = 128) holds for
    one sequence of 128 tokens.

    >>> check_kv_cache_floats(131072)
    ✓ correct: keys and values (2) × 4 layers × 128 tokens × 128 dimensions = 131,072 (512 KiB in float32)
    """
    return close_number(
        answer, 2 * 4 * 128 * 128, 0, "kv_cache_floats.correct",
        hints=[(4 * 128 * 128, "kv_cache_floats.one_of_two"),
               (2 * 128 * 128, "kv_cache_floats.one_layer"),
               # × 4 heads and × 4 bytes per float32 give the same number: one hint for both
               (2 * 4 * 128 * 128 * 4, "kv_cache_floats.four_times")],
        otherwise="kv_cache_floats.not_quite")


def _as_lists(result: Any) -> Any:
    """A tensor or array as nested lists (anything else as it is)."""
    import numpy as np
    import torch

    return result.tolist() if isinstance(result, (torch.Tensor, np.ndarray)) else result


@exercise
def check_top_k_filter(top_k_filter: Callable | None) -> Verdict:
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
    cases = [Case((s, k), reference(s, k).tolist()) for s, k in zip(scores, (2, 3, 1))]
    return run_cases(top_k_filter, cases, "top_k_filter", convert=_as_lists)
