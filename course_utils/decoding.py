"""One decoding step: what happens to the next-token scores before a strategy picks a token.

Every function here takes `scores` (B, V) — one row of logits per sequence, one column per token
of the vocabulary — and returns new scores of the same shape, where -inf marks a token that may
not be picked. In the order transformers applies them (and `course_utils.strategies` does):

1. the penalties, for every strategy: `apply_repetition_penalty` (tokens already in the text
   score lower) and `ban_repeated_ngrams` (no n-gram twice);
2. for sampling only: `apply_temperature` (sharpen or flatten the distribution), then
   `top_k_filter`, `top_p_filter` and `min_p_filter` (cut its unlikely tail).

Each equals transformers' logits processor of the same purpose (tests/test_generation.py) and
checks what it is given: scores must be a floating-point (B, V) tensor without NaN or +inf, and
token ids a (B, T) tensor with one row per row of scores and ids in 0..V-1.

Left out: typical and epsilon sampling, forced and suppressed tokens, bad-word lists.

>>> scores = torch.tensor([[2.0, 1.0, 0.5, -1.0]])
>>> top_k_filter(apply_temperature(scores, 0.5), k=2)
tensor([[4., 2., -inf, -inf]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from course_utils.model import check_token_ids
from course_utils.validation import check_int, check_number, check_same_device, check_tensor

__all__ = ["apply_repetition_penalty", "ban_repeated_ngrams", "apply_temperature",
           "top_k_filter", "top_p_filter", "min_p_filter", "ScoreSteps", "check_ids_in_vocab"]

NEG_INF = float("-inf")


# ---------------------------------------------------------------- checks


def _check_scores(scores: object) -> Tensor:
    """Return `scores` if it is a non-empty floating-point (B, V) tensor without NaN or +inf."""
    scores = check_tensor("scores", scores, ndim=2, kind="floating-point", shape="(B, V)",
                          fix="one row of next-token logits per sequence, e.g. scores[None]")
    if scores.numel() == 0:
        raise ValueError(f"scores must hold at least one row and one token, got shape "
                         f"{tuple(scores.shape)}")
    if not scores.max().item() < float("inf"):  # a NaN makes max() NaN; fails the test too
        row, column = (scores.isnan() | scores.isposinf()).nonzero()[0].tolist()
        raise ValueError(f"scores must be finite or -inf (a banned token), got "
                         f"{scores[row, column].item()} at row {row}, token {column}; "
                         f"NaN and +inf come from a broken model or an overflow")
    return scores


def check_ids_in_vocab(name: str, ids: Tensor | Sequence[int], vocab_size: int) -> None:
    """Raise unless `ids`, an integer tensor or a list of ints, holds ids in 0..vocab_size-1.

    >>> check_ids_in_vocab("input_ids", torch.tensor([[1, 9]]), 5)
    Traceback (most recent call last):
    ...
    ValueError: input_ids must hold token ids in 0..4 (vocab_size=5), got 9
    """
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    if not isinstance(ids, (list, tuple)):  # a tensor: only its extremes matter
        ids = check_tensor(name, ids, kind="integer", fix="a tensor or a list of token ids")
        ids = [ids.min().item(), ids.max().item()] if ids.numel() else []
    ids = [check_int(name, i, fix="a token id") for i in ids]
    if ids and (min(ids) < 0 or max(ids) >= vocab_size):
        raise ValueError(f"{name} must hold token ids in 0..{vocab_size - 1} (vocab_size="
                         f"{vocab_size}), got {min(ids) if min(ids) < 0 else max(ids)}")


def _check_repetition_penalty(name: str, penalty: object) -> float:
    return check_number(name, penalty, minimum=0, min_open=True,
                        fix="1.0 is off; 1.2 or 1.3 discourages repetition")


def _check_min_p(name: str, min_p: object, optional: bool = False) -> float | None:
    return check_number(name, min_p, minimum=0, maximum=1, optional=optional,
                        fix="0.05 removes every token less than 1/20 as likely as the top one"
                            + ("; None is off" if optional else ""))


def _check_temperature(temperature: object) -> float:
    return check_number("temperature", temperature, minimum=0, min_open=True,
                        fix="below 1 sharpens, above 1 flattens; for the most likely token "
                            "every time use strategy='greedy'")


def _check_ids_for(scores: Tensor, input_ids: object) -> Tensor:
    """Return `input_ids` if it holds one (B, T) row of valid token ids per row of scores."""
    check_token_ids(input_ids, "input_ids")
    if input_ids.size(0) != scores.size(0):
        raise ValueError(f"input_ids must have one row (the text so far) per row of scores, "
                         f"{scores.size(0)} rows, got {input_ids.size(0)}")
    check_ids_in_vocab("input_ids", input_ids, scores.size(1))
    check_same_device(scores=scores, input_ids=input_ids)
    return input_ids


# ---------------------------------------------------------------- penalties


def apply_repetition_penalty(scores: Tensor, input_ids: Tensor, penalty: float) -> Tensor:
    """Return scores (B, V) with every token that occurs in input_ids (B, T) made less likely.

    CTRL's penalty (Keskar et al., 2019): a positive score is divided by `penalty`, a negative
    one multiplied by it, so either way it drops (for penalty > 1). The prompt counts too, and a
    token is penalised once however often it occurs.

    >>> apply_repetition_penalty(torch.tensor([[2.0, -1.0, 0.5]]), torch.tensor([[0, 1, 0]]), 2.0)
    tensor([[ 1.0000, -2.0000,  0.5000]])
    """
    scores = _check_scores(scores)
    return _repetition_penalty(scores, _check_ids_for(scores, input_ids),
                               _check_repetition_penalty("penalty", penalty), "penalty")


def _repetition_penalty(scores: Tensor, input_ids: Tensor, penalty: float, name: str,
                        padding: Tensor | None = None) -> Tensor:
    ids = input_ids.long()  # (B, T)
    B, V = scores.shape
    if padding is not None:  # row i's first padding[i] tokens are left padding, not text: as
        # transformers (prompt_ignore_length), they go to an extra column V, dropped below
        ids = ids.masked_fill(torch.arange(ids.size(1), device=ids.device) < padding[:, None], V)
    seen = scores.new_zeros(B, V + 1, dtype=torch.bool).scatter_(1, ids, True)[:, :V]
    penalized = torch.where(scores < 0, scores * penalty, scores / penalty)
    penalized = torch.where(seen, penalized, scores)  # (B, V)
    # subtle: penalty is rounded to the scores' dtype; 1e-308 becomes 0 in float32 (x / 0 = inf)
    if not (penalized.isfinite() | scores.isneginf()).all():
        raise ValueError(f"{name}={penalty:g} takes the score of a token already in the text "
                         f"beyond the range of {scores.dtype} (to ±inf or NaN); use a penalty "
                         f"near 1, e.g. 1.2 discourages repetition")
    return penalized


def ban_repeated_ngrams(scores: Tensor, input_ids: Tensor, n: int) -> Tensor:
    """Return scores (B, V) with -inf for every token that would repeat an n-gram of input_ids.

    The last n-1 tokens are the start of the next n-gram; wherever they occurred before, the
    token that followed them then is banned now. (n=1 bans every token already present.)

    >>> ban_repeated_ngrams(torch.zeros(1, 4), torch.tensor([[1, 2, 3, 1]]), n=2)  # "1 2" seen
    tensor([[0., 0., -inf, 0.]])
    """
    scores = _check_scores(scores)
    return _ban_repeated_ngrams(scores, _check_ids_for(scores, input_ids), check_int(
        "n", n, minimum=1, fix="n=2 forbids any pair of tokens from occurring twice"))


def _ban_repeated_ngrams(scores: Tensor, input_ids: Tensor, n: int) -> Tensor:
    scores = scores.clone()
    for row, tokens in enumerate(input_ids.tolist()):
        start = tuple(tokens[len(tokens) - n + 1:])  # the last n-1 tokens
        banned = {tokens[i + n - 1] for i in range(len(tokens) - n + 1)
                  if tuple(tokens[i:i + n - 1]) == start}
        scores[row, list(banned)] = NEG_INF
    return scores


# ---------------------------------------------------------------- reshaping the distribution


def apply_temperature(scores: Tensor, temperature: float) -> Tensor:
    """Return scores / temperature (B, V): below 1 sharpens the distribution, above 1 flattens it.

    As the temperature goes to 0, sampling becomes greedy. A temperature so small that the
    division leaves float32's range (1e-40: 5 / 1e-40 = inf, and a softmax of inf is NaN) is
    treated as that limit: the row becomes 0 at its highest score and -inf elsewhere, so only
    that token can be drawn. transformers would fail there inside torch.multinomial; wherever
    the division stays finite, both give the same scores.

    >>> apply_temperature(torch.tensor([[2.0, 1.0, -1.0]]), 0.5)
    tensor([[ 4.,  2., -2.]])
    >>> apply_temperature(torch.tensor([[2.0, 1.0, -1.0]]), 1e-40)  # greedy
    tensor([[0., -inf, -inf]])
    """
    return _temperature(_check_scores(scores), _check_temperature(temperature))


def _temperature(scores: Tensor, temperature: float) -> Tensor:
    scaled = scores / temperature
    # The softmax of a row is defined while its largest score is finite; rows that overflowed
    # (+inf, or all -inf from finite scores) are the temperature -> 0 limit: greedy.
    row_max = scaled.amax(dim=-1)  # (B,)
    if not row_max.isfinite().all():
        overflowed = ~row_max.isfinite() & scores.amax(dim=-1).isfinite()  # (B,)
        greedy = torch.full_like(scores, NEG_INF).scatter_(1, scores.argmax(-1, keepdim=True), 0.0)
        scaled = torch.where(overflowed[:, None], greedy, scaled)
    return scaled


def top_k_filter(scores: Tensor, k: int) -> Tensor:
    """Return scores (B, V) with -inf everywhere except the k highest of each row (and ties).

    k larger than the vocabulary keeps every token.

    >>> top_k_filter(torch.tensor([[1.0, 3.0, 2.0]]), k=2)
    tensor([[-inf, 3., 2.]])
    """
    scores = _check_scores(scores)
    return _top_k(scores, check_int("k", k, minimum=1, fix="k=50 keeps each row's 50 most "
                                                            "likely tokens"))


def _top_k(scores: Tensor, k: int) -> Tensor:
    kth_best = scores.topk(min(k, scores.size(-1))).values[:, -1:]  # (B, 1)
    return scores.masked_fill(scores < kth_best, NEG_INF)


def top_p_filter(scores: Tensor, p: float) -> Tensor:
    """Return scores (B, V) keeping the fewest most likely tokens whose probability sums to >= p.

    Nucleus sampling (Holtzman et al., 2020). Sorted from least to most likely, the tail whose
    total probability is at most 1 - p is removed; the most likely token always stays.

    >>> probs = torch.tensor([[0.5, 0.3, 0.2]])
    >>> top_p_filter(probs.log(), p=0.7).exp()  # 0.5 + 0.3 >= 0.7: the 0.2 goes
    tensor([[0.5000, 0.3000, 0.0000]])
    """
    scores = _check_scores(scores)
    return _top_p(scores, check_number("p", p, minimum=0, maximum=1, min_open=True,
                                       fix="p=0.9 keeps the most likely tokens that make up 90% "
                                           "of the probability"))


def _top_p(scores: Tensor, p: float) -> Tensor:
    ascending, order = scores.sort(dim=-1)  # (B, V), least likely first
    cumulative = ascending.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= 1 - p
    remove[:, -1] = False  # keep the most likely token even if p is tiny
    remove = remove.scatter(1, order, remove)  # back to vocabulary order
    return scores.masked_fill(remove, NEG_INF)


def min_p_filter(scores: Tensor, min_p: float) -> Tensor:
    """Return scores (B, V) with -inf for every token less likely than min_p × the top token.

    Min-p sampling (Nguyen et al., 2024): the cut scales with the model's confidence. A peaked
    row (top token 0.9) keeps only tokens above min_p · 0.9; a flat one keeps many. min_p=0
    keeps every token, min_p=1 only the most likely (and its ties); 0.05 to 0.1 is typical.

    >>> probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    >>> min_p_filter(probs.log(), min_p=0.2).exp()  # the cut is 0.2 · 0.5 = 0.1: 0.05 goes
    tensor([[0.5000, 0.3000, 0.1500, 0.0000]])
    """
    return _min_p(_check_scores(scores), _check_min_p("min_p", min_p))


def _min_p(scores: Tensor, min_p: float) -> Tensor:
    probs = scores.softmax(dim=-1)  # (B, V)
    # The top token is never removed (min_p <= 1): transformers' min_tokens_to_keep=1 is implied.
    remove = probs < min_p * probs.amax(dim=-1, keepdim=True)
    return scores.masked_fill(remove, NEG_INF)


# ---------------------------------------------------------------- all of them, checked once


@dataclass(frozen=True)
class ScoreSteps:
    """The steps of one decoding step, with their settings checked once, when it is made.

    The functions above check their arguments at every call; a strategy makes one ScoreSteps
    and calls it at every step instead. The defaults switch every step off.

    >>> steps = ScoreSteps(repetition_penalty=2.0, temperature=0.5)
    >>> steps.penalize(torch.tensor([[2.0, 1.0]]), torch.tensor([[0]]))
    tensor([[1., 1.]])
    >>> steps.reshape(torch.tensor([[1.0, 1.0]]))
    tensor([[2., 2.]])
    """

    repetition_penalty: float = 1.0  # > 1 makes tokens already in the text less likely
    no_repeat_ngram_size: int = 0  # n > 0 forbids any n tokens from occurring twice
    temperature: float = 1.0  # sampling: the logits are divided by it
    top_k: int | None = None  # sampling: keep the k most likely tokens; None keeps all
    top_p: float = 1.0  # sampling: keep the smallest nucleus of probability >= p; 1.0 keeps all
    min_p: float | None = None  # sampling: drop tokens below min_p × the top one's probability

    def __post_init__(self) -> None:  # stores the checked values: plain ints and floats
        checked = dict(
            repetition_penalty=_check_repetition_penalty("repetition_penalty",
                                                         self.repetition_penalty),
            no_repeat_ngram_size=check_int("no_repeat_ngram_size", self.no_repeat_ngram_size,
                                           minimum=0, fix="0 is off; 3 forbids any 3 tokens "
                                                          "from occurring twice"),
            temperature=_check_temperature(self.temperature),
            top_k=check_int("top_k", self.top_k, minimum=1, optional=True,
                            fix="None keeps every token"),
            top_p=check_number("top_p", self.top_p, minimum=0, maximum=1, min_open=True,
                               fix="1.0 keeps every token"),
            min_p=_check_min_p("min_p", self.min_p, optional=True))
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def penalize(self, scores: Tensor, input_ids: Tensor, padding: Tensor | None = None
                 ) -> Tensor:
        """scores (B, V) after the penalties that every strategy applies, in transformers' order.
        padding (B,): the left padding of each row, which the repetition penalty skips (as
        transformers does; n-grams count it, as transformers' do)."""
        if self.repetition_penalty != 1.0:
            scores = _repetition_penalty(scores, input_ids, self.repetition_penalty,
                                         "repetition_penalty", padding)
        if self.no_repeat_ngram_size > 0:
            scores = _ban_repeated_ngrams(scores, input_ids, self.no_repeat_ngram_size)
        return scores

    def reshape(self, scores: Tensor) -> Tensor:
        """scores (B, V) after temperature, top-k, top-p and min-p, in that order (sampling
        only)."""
        scores = _temperature(scores, self.temperature)
        if self.top_k is not None:
            scores = _top_k(scores, self.top_k)
        if self.top_p < 1.0:
            scores = _top_p(scores, self.top_p)
        if self.min_p is not None:
            scores = _min_p(scores, self.min_p)
        return scores

    def check_processed(self, scores: Tensor, active: Tensor, step: int) -> None:
        """Raise ValueError unless each active row (B,) of scores (B, N), after every step, has
        a finite score and none NaN or +inf; the message names the settings that may be why."""
        broken = active & (scores.isnan() | scores.isposinf()).any(dim=-1)  # (B,)
        dead = active & scores.isneginf().all(dim=-1)  # (B,)
        if not (broken.any() or dead.any()):
            return
        row = (broken | dead).nonzero()[0].item()
        causes = [f"no_repeat_ngram_size={self.no_repeat_ngram_size} leaves no token that does "
                  f"not repeat an n-gram of the text (use a larger one or fewer max_new_tokens)"
                  ] if self.no_repeat_ngram_size > 0 else []
        causes += [f"{name}={value:g} overflows (keep it near 1)" for name, value in
                   (("repetition_penalty", self.repetition_penalty),
                    ("temperature", self.temperature)) if value != 1.0]
        raise ValueError(f"{'every token is banned' if dead[row] else 'a score is NaN or +inf'}"
                         f" at step {step}, row {row} after the penalties and filters: "
                         + ("; or ".join(causes) or "the logits are out of range"))
