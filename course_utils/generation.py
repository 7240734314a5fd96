"""Generation: a model, a prompt and one `GenerationConfig` in, text (as token ids) out.

`generate(model, input_ids, ...)` drives the course `GPT` or any transformers causal LM with the
strategies of `course_utils.strategies` (which apply the steps of `course_utils.decoding`):
`NextTokenLogits` turns the model into the function they take, token ids so far (B, T) ->
next-token logits (B, V), with a KV cache. Its settings are one `GenerationConfig`, checked
once when it is made; `generate` takes them as keywords and builds it.

It follows transformers' definitions exactly: for the same model, prompt and settings it returns
the same tokens as `model.generate` (tests/test_generation.py checks greedy, beam search, and
sampling with `torch.manual_seed(seed)` before transformers' call). The settings have the same
names and meanings; these are spelled differently:

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

Like transformers, scores are processed in float32 whatever the model's dtype. The KV cache
(`use_cache=True`, the default; `course_utils.multihead.KVCache`) feeds the model only the new
token at each step; `use_cache=False` recomputes everything: slower, same tokens. The earlier
modules' names are re-exported here (`top_k_filter`, `sample`, ..., `load_gpt2`).

Left out: padded prompts (rows of a batch must have the same length; there is no
attention_mask), several sequences per prompt (num_return_sequences), streaming, and generating
beyond the model's context length (an error: crop the prompt, or ask for fewer tokens).

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

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from course_utils.decoding import (ScoreSteps, apply_repetition_penalty, ban_repeated_ngrams,
                                   check_ids_in_vocab, top_k_filter, top_p_filter)
from course_utils.model import GPT, KVCache, check_token_ids
from course_utils.pretrained import load_gpt2, load_smollm2
from course_utils.strategies import (beam_search, check_beam_settings, check_stopping,
                                     greedy_search, sample)
from course_utils.validation import (check_bool, check_choice, check_device, check_int,
                                     check_same_device, check_seed, check_tensor, check_type,
                                     short_repr)

__all__ = ["generate", "GenerationConfig", "greedy_search", "sample", "beam_search",
           "NextTokenLogits", "apply_repetition_penalty", "ban_repeated_ngrams", "top_k_filter",
           "top_p_filter", "load_gpt2", "load_smollm2", "STRATEGIES"]

STRATEGIES = ("greedy", "sample", "beam")


@dataclass(frozen=True)
class GenerationConfig:
    """How `generate` writes: every setting in one place, checked once, when the config is made
    (it is frozen; `dataclasses.replace(config, seed=1)` makes a changed copy, checked again).

    Settings that only one strategy uses are refused with the others (temperature with
    strategy="greedy" is a mistake, not a no-op). Degenerate values are refused: NaN or infinite
    numbers, bools where an int is expected, a seed outside 0..2**64-1.

    >>> GenerationConfig(strategy="sample", seed=torch.Generator())
    Traceback (most recent call last):
    ...
    TypeError: seed must be an int or None, got a torch.Generator; pass it as generator=...
    """

    max_new_tokens: int = 50  # at most this many tokens are appended (fewer if all rows stop)
    strategy: Literal["greedy", "sample", "beam"] = "greedy"
    # strategy="sample" only:
    temperature: float = 1.0  # the logits are divided by it: < 1 sharpens, > 1 flattens
    top_k: int | None = None  # keep the k most likely tokens; None keeps all
    top_p: float = 1.0  # keep the fewest most likely tokens whose probability sums to p; 1.0: all
    seed: int | None = None  # seeds a private generator; None: seed 0, unless `generator` is given
    generator: torch.Generator | None = None  # or draw from this generator, continuing its stream
    # strategy="beam" only:
    num_beams: int | None = None  # texts kept at each step (required)
    length_penalty: float = 1.0  # a finished text scores sum(log p) / length ** length_penalty
    early_stopping: bool | Literal["never"] = False  # when a prompt is done (see beam_search)
    # every strategy:
    repetition_penalty: float = 1.0  # > 1 makes tokens already in the text less likely; 1: off
    no_repeat_ngram_size: int = 0  # n > 0 forbids any n tokens from occurring twice; 0: off
    eos_token_id: int | Sequence[int] | None = None  # a row stops at this token (or these)
    pad_token_id: int | None = None  # fills finished rows; None: the first EOS id
    use_cache: bool = True  # keep keys and values (KV cache): faster, the same tokens

    def __post_init__(self) -> None:  # stores the checked values (plain ints and floats)
        checked = {"max_new_tokens": check_int("max_new_tokens", self.max_new_tokens, minimum=0)}
        check_choice("strategy", self.strategy, STRATEGIES)
        checked.update(vars(ScoreSteps(self.repetition_penalty, self.no_repeat_ngram_size,
                                       self.temperature, self.top_k, self.top_p)))  # these five
        if isinstance(self.seed, torch.Generator):
            raise TypeError("seed must be an int or None, got a torch.Generator; pass it as "
                            "generator=...")
        checked["seed"] = check_seed("seed", self.seed, optional=True)
        if self.generator is not None:
            check_type("generator", self.generator, torch.Generator, "a torch.Generator or None")
            if self.seed is not None:
                raise ValueError(f"seed={self.seed} and a generator were both given; give one: "
                                 f"the generator's own seed decides its draws")
        self._check_strategy_settings()
        if self.strategy == "beam":
            checked["num_beams"], checked["length_penalty"] = check_beam_settings(
                self.num_beams, self.length_penalty, self.early_stopping)
        eos, pad = check_stopping(self.eos_token_id, self.pad_token_id)
        checked["eos_token_id"] = eos if isinstance(self.eos_token_id, (list, tuple)) else \
            (eos or [None])[0]
        checked["pad_token_id"] = None if self.pad_token_id is None else pad
        check_bool("use_cache", self.use_cache)
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def _check_strategy_settings(self) -> None:
        sampling = dict(temperature=self.temperature != 1.0, top_k=self.top_k is not None,
                        top_p=self.top_p != 1.0, seed=self.seed is not None,
                        generator=self.generator is not None)
        beam = dict(num_beams=self.num_beams is not None, length_penalty=self.length_penalty != 1,
                    early_stopping=self.early_stopping is not False)
        for only, settings in (("sample", sampling), ("beam", beam)):
            given = [name for name, is_set in settings.items() if is_set]
            if given and self.strategy != only:
                verb, them = ("applies", "it") if len(given) == 1 else ("apply", "them")
                raise ValueError(f"{', '.join(given)} only {verb} to strategy={only!r}, not "
                                 f"{self.strategy!r}; leave {them} out or use strategy={only!r}")
        if self.strategy == "beam" and self.num_beams is None:
            raise ValueError("num_beams is needed for strategy='beam', e.g. num_beams=5")

    def make_generator(self, device: torch.device) -> torch.Generator:
        """The generator that sampling draws from: `generator`, or a new one seeded with seed
        (0 if None) on `device`."""
        device = check_device("device", device)
        return self.generator or torch.Generator(device).manual_seed(self.seed or 0)


class NextTokenLogits:
    """The model as a function: token ids so far (B, T) -> logits of the next token (B, V).

    Works for the course `GPT` and for transformers causal LMs. With use_cache=True, while
    each call extends the ids of the previous one row by row (after `reorder`, which says which
    rows continue which), it feeds only the new tokens and keeps the keys and values of the
    others in a KV cache (a `KVCache`, or transformers' `DynamicCache`); any other call (a new
    text, another batch) starts a new cache. The logits (float32, as transformers processes
    them) are always those of the ids given.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=1, n_embd=4)).eval()
    >>> next_logits = NextTokenLogits(model)
    >>> next_logits(torch.tensor([[1, 2]])).shape, next_logits.seen  # the prompt: 2 tokens
    (torch.Size([1, 10]), 2)
    >>> next_logits(torch.tensor([[1, 2, 7]])).shape, next_logits.seen  # fed only token 7
    (torch.Size([1, 10]), 3)
    """

    def __init__(self, model: nn.Module, *, use_cache: bool = True) -> None:
        _check_model(model)
        self.model, self.use_cache = model, check_bool("use_cache", use_cache)
        self.is_course_gpt = isinstance(model, GPT)
        # transformers computes the logits of the last position only, when the model can.
        self.last_only = (not self.is_course_gpt
                          and "logits_to_keep" in inspect.signature(model.forward).parameters)
        self._forget()

    def _forget(self) -> None:
        """Empty the cache: the next call feeds every token."""
        self.cache: object = KVCache() if self.is_course_gpt else None  # None: the model makes one
        self.seen = 0  # tokens per row whose keys and values are in the cache
        self.previous: Tensor | None = None  # the ids of the last call (B, seen)

    def __call__(self, input_ids: Tensor) -> Tensor:
        check_token_ids(check_tensor("input_ids", input_ids), "input_ids")
        if not self.use_cache:
            return self._logits(input_ids, cache=None)
        previous = self.previous
        if not (previous is not None and input_ids.shape[0] == previous.shape[0]
                and input_ids.size(1) > self.seen and input_ids.device == previous.device
                and torch.equal(input_ids[:, :self.seen], previous)):
            self._forget()  # not a continuation of the cached ids
        logits = self._logits(input_ids[:, self.seen:], cache=self.cache)  # only the new tokens
        self.seen, self.previous = input_ids.size(1), input_ids.clone()
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
        check_tensor("rows", rows, ndim=1, kind="integer", shape="(B,)")
        if self.previous is None:  # nothing cached
            return
        check_same_device(rows=rows, input_ids=self.previous)
        B = self.previous.size(0)
        if rows.numel() == 0 or rows.min() < 0 or rows.max() >= B:
            raise ValueError(f"rows must hold row numbers of the previous call, in 0..{B - 1}, "
                             f"got {short_repr(rows.tolist())}")
        self.previous = self.previous[rows]
        if self.is_course_gpt:
            self.cache.reorder(rows)
        else:
            self.cache.reorder_cache(rows)


def generate(model: nn.Module, input_ids: Tensor, max_new_tokens: int = 50, *,
             strategy: Literal["greedy", "sample", "beam"] = "greedy",
             temperature: float = 1.0, top_k: int | None = None, top_p: float = 1.0,
             seed: int | None = None, generator: torch.Generator | None = None,
             num_beams: int | None = None, length_penalty: float = 1.0,
             early_stopping: bool | Literal["never"] = False, repetition_penalty: float = 1.0,
             no_repeat_ngram_size: int = 0, eos_token_id: int | Sequence[int] | None = None,
             pad_token_id: int | None = None, use_cache: bool = True) -> Tensor:
    """Return input_ids (B, T) followed by the generated tokens: a (B, T + n) LongTensor.

    model: the course `GPT` or a transformers causal LM (e.g. `GPT2LMHeadModel`); it runs in
    eval mode (no dropout) during the call and gets its mode back after. input_ids: prompts of
    equal length T >= 1. n <= max_new_tokens: fewer when every row stopped at an EOS token.
    The other settings are those of `GenerationConfig` (read its comments):

    - strategy: "greedy", "sample" (uses temperature, top_k, top_p, and seed or generator) or
      "beam" (uses num_beams, length_penalty, early_stopping); see the functions of the same
      names in `course_utils.strategies`. top_k=None and top_p=1.0 switch those filters off.
    - seed=None, the default, means seed 0 unless a `generator` is given: a call is
      reproducible unless you ask otherwise (a different seed, or your own generator, whose
      stream goes on from call to call). The global RNG is never used.
    - repetition_penalty (1.0 = off) and no_repeat_ngram_size (0 = off) apply to every strategy.
    - eos_token_id (an id or a list of ids; None = run for max_new_tokens): a row that produces
      one is finished; in a batch it then gets pad_token_id (default: the first EOS id) until
      the others finish, as in transformers.

    Raises TypeError/ValueError saying what to change: for bad arguments (a prompt plus
    max_new_tokens beyond the model's context too), and for degenerate scores (NaN, ±inf, a row
    left without a token: see `course_utils.strategies`).

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=16, n_layer=1, n_head=2, n_embd=8))
    >>> prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    >>> greedy = generate(model, prompt, max_new_tokens=4)
    >>> greedy.shape, torch.equal(greedy, generate(model, prompt, 4, use_cache=False))
    (torch.Size([2, 7]), True)
    >>> generate(model, prompt, 4, strategy="beam", num_beams=3).shape
    torch.Size([2, 7])
    """
    config = GenerationConfig(
        max_new_tokens=max_new_tokens, strategy=strategy, temperature=temperature, top_k=top_k,
        top_p=top_p, seed=seed, generator=generator, num_beams=num_beams,
        length_penalty=length_penalty, early_stopping=early_stopping,
        repetition_penalty=repetition_penalty, no_repeat_ngram_size=no_repeat_ngram_size,
        eos_token_id=eos_token_id, pad_token_id=pad_token_id, use_cache=use_cache)
    return generate_with(model, input_ids, config)


def generate_with(model: nn.Module, input_ids: Tensor, config: GenerationConfig) -> Tensor:
    """`generate` with its settings given as one `GenerationConfig`.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=16, n_layer=1, n_head=2, n_embd=8))
    >>> config = GenerationConfig(max_new_tokens=3, strategy="beam", num_beams=2)
    >>> generate_with(model, torch.tensor([[1, 2]]), config).shape
    torch.Size([1, 5])
    """
    check_type("config", config, GenerationConfig, "a GenerationConfig")
    _check_model_and_ids(model, input_ids, config)
    c = config
    shared = dict(repetition_penalty=c.repetition_penalty,
                  no_repeat_ngram_size=c.no_repeat_ngram_size, eos_token_id=c.eos_token_id,
                  pad_token_id=c.pad_token_id)
    next_logits = NextTokenLogits(model, use_cache=c.use_cache)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if c.strategy == "greedy" or (c.strategy == "beam" and c.num_beams == 1):
                return greedy_search(next_logits, input_ids, c.max_new_tokens, **shared)
            if c.strategy == "sample":
                return sample(next_logits, input_ids, c.max_new_tokens,
                              generator=c.make_generator(input_ids.device),
                              temperature=c.temperature, top_k=c.top_k, top_p=c.top_p, **shared)
            return beam_search(next_logits, input_ids, c.max_new_tokens, num_beams=c.num_beams,
                               length_penalty=c.length_penalty, early_stopping=c.early_stopping,
                               **shared)
    finally:
        model.train(was_training)


def _check_model(model: object) -> None:
    if not isinstance(model, GPT):
        from transformers import PreTrainedModel  # a course requirement, imported when needed

        if not (isinstance(model, PreTrainedModel) and callable(getattr(model, "generate", None))):
            raise TypeError(f"model must be the course GPT or a transformers causal LM such as "
                            f"GPT2LMHeadModel, got {type(model).__name__}")
    if any(p.is_meta for p in model.parameters()):
        raise ValueError("model is on the meta device: its weights have shapes but no values; "
                         "load or initialise it on a real device such as 'cpu'")


def _context_and_vocab(model: nn.Module) -> tuple[int | None, int]:
    """(longest sequence the model takes or None if unbounded, vocab_size)."""
    if isinstance(model, GPT):
        return model.config.block_size, model.config.vocab_size
    config = model.config.get_text_config()
    context = getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings",
                                                               None)
    return context, config.vocab_size


def _check_model_and_ids(model: object, input_ids: object, config: GenerationConfig) -> None:
    _check_model(model)
    if isinstance(input_ids, Tensor) and input_ids.dim() == 2 and input_ids.size(1) == 0:
        raise ValueError("the prompt is empty (T = 0): input_ids needs at least one token to "
                         "predict from; start with a token such as <|endoftext|> (BOS)")
    check_token_ids(input_ids, "input_ids")
    context, vocab_size = _context_and_vocab(model)
    T, new = input_ids.size(1), config.max_new_tokens
    if context is not None and T > context:
        raise ValueError(f"the prompt has T={T} tokens, more than the model's context of "
                         f"{context}; keep its last tokens, input_ids[:, -{context}:]")
    if context is not None and T + new > context:
        raise ValueError(f"T={T} prompt tokens + max_new_tokens={new} exceed the model's "
                         f"context of {context} positions; use max_new_tokens <= "
                         f"{context - T}, or a shorter prompt")
    check_ids_in_vocab("input_ids", input_ids, vocab_size)
    eos, pad = check_stopping(config.eos_token_id, config.pad_token_id)
    check_ids_in_vocab("eos_token_id", eos, vocab_size)
    check_ids_in_vocab("pad_token_id", [] if pad is None else [pad], vocab_size)
