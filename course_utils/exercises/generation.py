"""Exercise checks of notebook 05 (generation): four numbers to work out, and two pieces to
build — prompt lookup's draft (against course_utils.prompt_lookup.find_draft, which finds drafts
as transformers' PromptLookupCandidateGenerator does) and one beam-search step (against
course_utils.strategies.beam_search). `check_top_k_filter` and `check_min_p_filter`, exercises
of earlier versions of the notebook (which now builds both filters itself), stay importable."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from course_utils.exercises.answers import Case, call, close_number, number_list, run_cases
from course_utils.exercises.feedback import Verdict, correct, describe, exercise, wrong


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
    """How many numbers the KV cache of a grouped-query-attention model (16 layers, 24 query
    heads of 64 dimensions sharing 8 key/value heads) holds for one sequence of 4,096 tokens.

    >>> check_kv_cache_floats(67108864)
    ✓ correct: keys and values (2) × 16 layers × 8 key/value heads × 64 × 4,096 tokens = 67,108,864 (128 MiB in bf16)
    """
    right = 2 * 16 * 8 * 64 * 4096
    return close_number(
        answer, right, 0, "kv_cache_floats.correct",
        hints=[(right // 2, "kv_cache_floats.one_of_two"),
               (right // 16, "kv_cache_floats.one_layer"),
               (right * 3, "kv_cache_floats.query_heads"),  # 24 heads, or n_embd = 24 × 64
               (right * 2, "kv_cache_floats.bytes"),  # bf16 bytes
               (right * 4, "kv_cache_floats.bytes")],  # float32 bytes
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


# ---------------------------------------------------------------- checks that build something

def _min_p_reference(scores: Any, min_p: float) -> Any:
    from course_utils.decoding import min_p_filter  # equal to transformers' MinPLogitsWarper

    return min_p_filter(scores, min_p)


def _min_p_mistake(got: Any, scores: Any, min_p: float, expected: Any) -> str | None:
    """The hint that names the usual mistake `got` shows, or None."""
    import torch

    probs = scores.softmax(dim=-1)
    removed = expected.isneginf()
    if torch.equal(got, scores.masked_fill(scores < min_p * scores.amax(-1, keepdim=True),
                                           -math.inf)):
        return "min_p_filter.logits"
    if torch.equal(got, scores.masked_fill(probs < min_p, -math.inf)):
        return "min_p_filter.unscaled"
    if torch.equal(got == 0, removed) and bool(((got >= 0) & (got <= 1)).all()):
        return "min_p_filter.probabilities"  # probabilities, renormalised or not
    if torch.equal(got, torch.where(removed, torch.zeros_like(scores), scores)):
        return "min_p_filter.zero"
    return None


@exercise
def check_min_p_filter(min_p_filter: Callable | None) -> Verdict:
    """`min_p_filter(scores, min_p)`: scores (B, V) with -inf for every token whose probability
    is below min_p × the most likely token's, equal to transformers' `MinPLogitsWarper`.

    >>> def min_p_filter(scores, min_p):
    ...     probs = scores.softmax(dim=-1)
    ...     threshold = min_p * probs.amax(dim=-1, keepdim=True)  # (B, 1)
    ...     return scores.masked_fill(probs < threshold, float("-inf"))
    >>> check_min_p_filter(min_p_filter)
    ✓ correct: min_p_filter equals transformers' MinPLogitsWarper on all 3 cases
    """
    import torch

    if not callable(min_p_filter):
        return wrong("not_a_function", type=type(min_p_filter).__name__)
    cases = [(torch.tensor([[2.0, 1.0, 0.0, -1.0, -3.0]]), 0.2),
             (torch.tensor([[1.0, 1.0, 1.0, 0.9], [10.0, 9.5, 9.0, 5.0]]), 0.5),
             (torch.tensor([[-2.0, 3.0, 2.9, 0.0, 2.0, -1.0]]), 0.1)]
    for scores, min_p in cases:
        got, shown = call(min_p_filter, "min_p_filter", (scores, min_p))
        expected = _min_p_reference(scores, min_p)
        if not isinstance(got, torch.Tensor) or got.shape != scores.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else got
            return wrong("min_p_filter.shape", name="min_p_filter", got=describe(shape))
        try:  # a meta or complex tensor does not convert: it is simply not the answer
            got = got.detach().to("cpu", torch.float32)
        except Exception:
            got = torch.full_like(scores, math.nan)
        if torch.equal(got, expected):
            continue
        code = _min_p_mistake(got, scores, min_p, expected)
        if code is not None:
            return wrong(code, name="min_p_filter")
        return wrong("min_p_filter.kept_wrong", name="min_p_filter", args=shown,
                     got=describe(got.isfinite().tolist()),
                     expected=describe(expected.isfinite().tolist()))
    return correct("min_p_filter.correct", name="min_p_filter", count=len(cases))


def _as_token_list(got: Any) -> Any:
    """A tuple, tensor or array of token ids as a list (anything else as it is)."""
    return list(got) if isinstance(got, tuple) else _as_lists(got)


@exercise
def check_find_draft(find_draft: Callable | None) -> Verdict:
    """`find_draft(ids, max_ngram_size, num_draft_tokens)` for a list of token ids: the tokens
    after the first earlier occurrence of the last max_ngram_size tokens (else of fewer, down to
    one), at most num_draft_tokens of them; [] when even the last token never occurred before.
    The cases catch the usual slips: the most recent occurrence instead of the first, no
    shorter n-gram, a draft longer than num_draft_tokens, the last n tokens matching themselves.

    >>> def find_draft(ids, max_ngram_size, num_draft_tokens):
    ...     for n in range(min(max_ngram_size, len(ids) - 1), 0, -1):
    ...         for start in range(len(ids) - n):  # left to right, not the last n themselves
    ...             if ids[start:start + n] == ids[-n:]:
    ...                 return ids[start + n:start + n + num_draft_tokens]
    ...     return []
    >>> check_find_draft(find_draft)
    ✓ correct: find_draft passes all 7 cases
    """
    from course_utils.prompt_lookup import find_draft as reference

    texts = [([5, 1, 2, 3, 9, 1, 2], 2, 10),  # the worked example of the notebook
             ([1, 2, 3, 4, 7, 2, 3, 5, 2, 3], 2, 2),  # the first "2 3", not the most recent
             ([4, 8, 6, 9, 8], 2, 10),  # "9 8" is new: fall back to "8"
             ([7, 1, 2, 3, 4, 5, 6, 7], 3, 4),  # three tokens new, two new, one found
             ([3, 3, 3, 3], 2, 10),  # overlapping occurrences count
             ([1, 2, 3, 4], 2, 5),  # nothing repeats: no draft
             ([6], 2, 10)]  # a single token: nothing before it
    cases = [Case((ids, n, k), reference(ids, max_ngram_size=n, num_draft_tokens=k))
             for ids, n, k in texts]
    return run_cases(find_draft, cases, "find_draft", convert=_as_token_list)


def _beam_mistakes(beam_scores: Any, log_probs: Any, num_beams: int) -> dict[str, tuple]:
    """What the usual wrong beam steps return, by the hint that names each mistake."""
    import torch

    V = log_probs.size(1)
    no_sum = log_probs.flatten().topk(num_beams)
    per_beam = (log_probs + beam_scores[:, None]).max(dim=-1)  # the best token of each beam
    order = per_beam.values.argsort(descending=True)
    total = (log_probs + beam_scores[:, None]).flatten().topk(num_beams)
    return {"beam_step.no_sum": (no_sum.indices // V, no_sum.indices % V),
            "beam_step.per_beam": (order, per_beam.indices[order]),
            "beam_step.swapped": (total.indices % V, total.indices // V)}


def _beam_step_result(got: Any, num_beams: int) -> tuple | Verdict:
    """The learner's (scores, beams, tokens) as flat tensors, or the verdict saying what is off."""
    import torch

    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return wrong("beam_step.not_three", got=describe(got))
    try:
        parts = tuple(torch.as_tensor(part).detach().to("cpu").flatten() for part in got)
    except Exception:  # parts that are not numbers, or objects whose conversion raises
        return wrong("beam_step.not_three", got=describe(got))
    if any(part.numel() != num_beams for part in parts):
        return wrong("beam_step.shape", count=num_beams,
                     got=describe([tuple(part.shape) for part in parts]))
    scores, beams, tokens = parts
    return scores.double(), beams.long(), tokens.long()


@exercise
def check_beam_step(beam_step: Callable | None) -> Verdict:
    """`beam_step(beam_scores, log_probs, num_beams)` -> (scores, beams, tokens): from the beams'
    scores (num_beams,) and their next-token log-probabilities (num_beams, V), the num_beams best
    candidates, best first. Each step is compared with a hand-made one; then a search of three
    steps built on it must write what `course_utils.strategies.beam_search` writes.

    >>> def beam_step(beam_scores, log_probs, num_beams):
    ...     V = log_probs.size(1)
    ...     scores, index = (beam_scores[:, None] + log_probs).flatten().topk(num_beams)
    ...     return scores, index // V, index % V
    >>> check_beam_step(beam_step)
    ✓ correct: beam_step picks the same beams as course_utils' beam_search in all 3 cases
    """
    import torch

    from course_utils.strategies import beam_search

    if not callable(beam_step):
        return wrong("not_a_function", type=type(beam_step).__name__)
    generator = torch.Generator().manual_seed(0)
    tables = [torch.randn(V, V, generator=generator, dtype=torch.float64).log_softmax(-1)
              for V in (5, 6, 8)]  # bigram log-probabilities: row = the last token
    # First one step from beams that already differ, where each usual mistake shows;
    # then searches of three steps from a single prompt, as beam_search starts.
    first = (torch.tensor([-0.5, -1.0, -1.75], dtype=torch.float64), tables[0][[1, 2, 3]], 3)
    searches = [(num_beams, table) for num_beams, table in zip((2, 3, 2), tables)]
    for num_beams, table in [(None, None), *searches]:
        if num_beams is None:
            beam_scores, log_probs, num_beams = first
            beams = torch.tensor([[1], [2], [3]])
        else:
            beams = torch.zeros(num_beams, 1, dtype=torch.long)  # every beam starts as token 0
            beam_scores = torch.full((num_beams,), -1e9, dtype=torch.float64)
            beam_scores[0] = 0.0  # only the first copy of the prompt may be extended at first
        for _ in range(1 if table is None else 3):
            if table is not None:
                log_probs = table[beams[:, -1]]  # (num_beams, V)
            got, shown = call(beam_step, "beam_step", (beam_scores, log_probs, num_beams))
            result = _beam_step_result(got, num_beams)
            if isinstance(result, Verdict):
                return result
            scores, rows, tokens = result
            total = (beam_scores[:, None] + log_probs).flatten().topk(num_beams)
            V = log_probs.size(1)
            if not (torch.equal(rows, total.indices // V) and torch.equal(tokens, total.indices % V)
                    and torch.allclose(scores, total.values)):
                for code, (r, t) in _beam_mistakes(beam_scores, log_probs, num_beams).items():
                    if torch.equal(rows, r) and torch.equal(tokens, t):
                        return wrong(code)
                if torch.allclose(scores.sort().values, total.values.sort().values):
                    return wrong("beam_step.order")
                return wrong("beam_step.not_quite", name="beam_step", args=shown,
                             got=describe([round(x, 4) for x in scores.tolist()]),
                             expected=describe([round(x, 4) for x in total.values.tolist()]))
            beams = torch.cat([beams[rows], tokens[:, None]], dim=1)
            beam_scores = scores
        if table is None:
            continue
        expected = beam_search(lambda ids, table=table: table[ids[:, -1]], beams[:1, :1], 3,
                               num_beams=num_beams, length_penalty=0.0)
        if not torch.equal(beams[0], expected[0]):
            return wrong("beam_step.search_differs", got=describe(beams[0].tolist()),
                         expected=describe(expected[0].tolist()))
    return correct("beam_step.correct", name="beam_step", count=len(searches))
