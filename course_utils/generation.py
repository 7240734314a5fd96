"""Generation: a model, a prompt and one `GenerationConfig` in, text (as token ids) out.

`generate(model, input_ids, ...)` drives the course `GPT` or `Llama` or any transformers causal
LM with the strategies of `course_utils.strategies` (which apply the steps of
`course_utils.decoding`): `NextTokenLogits` turns the model into the function they take, token
ids so far (B, T) -> next-token logits (B, V), with a KV cache. Its settings are one
`GenerationConfig`, checked once when it is made; `generate` takes them as keywords and builds it.

It follows transformers' definitions exactly: for the same model, prompt and settings it returns
the same tokens as `model.generate` (tests/test_generation.py checks greedy, beam search, and
sampling with `torch.manual_seed(seed)` before transformers' call, and
tests/test_batched_generation.py the same on padded batches). The settings have the same names
and meanings; these are spelled differently:

    course generate                      transformers model.generate
    strategy="greedy"                    do_sample=False, num_beams=1
    strategy="sample"                    do_sample=True, num_beams=1
    strategy="beam", num_beams=n         do_sample=False, num_beams=n (n=1 is greedy in both)
    top_k=None (off, the default)        top_k=0 (its default is top_k=50!)
    eos_token_id=None (never stops)      eos_token_id=None falls back to the model's
                                         generation_config.eos_token_id; pass it explicitly
    seed=s (a private generator)         torch.manual_seed(s) just before the call
    attention_mask=None: every prompt    attention_mask=torch.ones_like(input_ids); without
    token is real                        it, prompt tokens equal to pad_token_id count as padding

Like transformers, scores are processed in float32 whatever the model's dtype. The KV cache
(`use_cache=True`, the default; `course_utils.multihead.KVCache`) feeds the model only the new
token at each step; `use_cache=False` recomputes everything: slower, same tokens. The earlier
modules' names are re-exported here (`top_k_filter`, `sample`, ..., `load_gpt2`).

Prompts of different lengths go in one batch left-padded, with their `attention_mask`
(`left_pad(prompts, pad_token_id)` makes both): padding gets no attention, positions count
only real tokens and the repetition penalty skips padding, as in transformers, so row i equals
prompt i generated alone. (Except with no_repeat_ngram_size: like transformers', it counts the
padding's n-grams, and bans what followed them if the row writes the pad id.) Generating
beyond the model's context is an error (crop the prompt, or ask for fewer tokens) unless
`sliding_context=True`: then each step sees the last context-many tokens, at the price of a
full forward pass over them per step (see `NextTokenLogits`). The model may be the course
`GPT`, the course `Llama` (its preallocated cache holds prompt + max_new_tokens positions) or a
transformers causal LM.

Left out: right padding (an error: pad on the left), several sequences per prompt
(num_return_sequences) and streaming.

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

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from course_utils.batching import check_attention_mask, check_left_padded, left_pad
from course_utils.decoding import (apply_repetition_penalty, ban_repeated_ngrams,
                                   check_ids_in_vocab, min_p_filter, top_k_filter, top_p_filter)
from course_utils.generation_config import STRATEGIES, GenerationConfig
from course_utils.llama import Llama
from course_utils.model import GPT, check_token_ids
from course_utils.next_token_logits import NextTokenLogits, check_model, model_context
from course_utils.pretrained import load_gpt2, load_smollm2
from course_utils.strategies import beam_search, check_stopping, greedy_search, sample
from course_utils.validation import check_type

__all__ = ["generate", "generate_with", "GenerationConfig", "greedy_search", "sample",
           "beam_search", "NextTokenLogits", "apply_repetition_penalty", "ban_repeated_ngrams",
           "top_k_filter", "top_p_filter", "min_p_filter", "load_gpt2", "load_smollm2",
           "STRATEGIES", "left_pad"]


def generate(model: nn.Module, input_ids: Tensor, max_new_tokens: int = 50, *,
             strategy: Literal["greedy", "sample", "beam"] = "greedy",
             temperature: float = 1.0, top_k: int | None = None, top_p: float = 1.0,
             min_p: float | None = None,
             seed: int | None = None, generator: torch.Generator | None = None,
             num_beams: int | None = None, length_penalty: float = 1.0,
             early_stopping: bool | Literal["never"] = False, repetition_penalty: float = 1.0,
             no_repeat_ngram_size: int = 0, eos_token_id: int | Sequence[int] | None = None,
             pad_token_id: int | None = None, use_cache: bool = True,
             sliding_context: bool = False, attention_mask: Tensor | None = None) -> Tensor:
    """Return input_ids (B, T) followed by the generated tokens: a (B, T + n) LongTensor.

    model: the course `GPT` or `Llama`, or a transformers causal LM (e.g. `GPT2LMHeadModel`);
    it runs in eval mode (no dropout) during the call and gets its mode back after. input_ids:
    prompts of length T >= 1, left-padded to T if their lengths differ, with attention_mask
    (B, T) saying which tokens are real (1) and which are padding (0): `left_pad` makes both.
    n <= max_new_tokens: fewer when every row stopped at an EOS token.
    The other settings are those of `GenerationConfig` (read its comments):

    - strategy: "greedy", "sample" (uses temperature, top_k, top_p, min_p, and seed or
      generator) or "beam" (uses num_beams, length_penalty, early_stopping); see the functions
      of the same names in `course_utils.strategies`. top_k=None, top_p=1.0 and min_p=None
      switch those filters off.
    - seed=None, the default, means seed 0 unless a `generator` is given: a call is
      reproducible unless you ask otherwise (a different seed, or your own generator, whose
      stream goes on from call to call). The global RNG is never used.
    - repetition_penalty (1.0 = off) and no_repeat_ngram_size (0 = off) apply to every strategy.
    - eos_token_id (an id or a list of ids; None = run for max_new_tokens): a row that produces
      one is finished; in a batch it then gets pad_token_id (default: the first EOS id) until
      the others finish, as in transformers.
    - sliding_context=True: generate past the model's context (see the module doc).

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
    >>> ids, mask = left_pad([[1, 2, 3], [4]], pad_token_id=0)  # prompts of different lengths
    >>> batch = generate(model, ids, 4, attention_mask=mask)
    >>> torch.equal(batch[1, 2:], generate(model, torch.tensor([[4]]), 4)[0])  # [4] alone
    True
    >>> generate(model, prompt, 20, sliding_context=True).shape  # past block_size=16
    torch.Size([2, 23])
    """
    config = GenerationConfig(
        max_new_tokens=max_new_tokens, strategy=strategy, temperature=temperature, top_k=top_k,
        top_p=top_p, min_p=min_p, seed=seed, generator=generator, num_beams=num_beams,
        length_penalty=length_penalty, early_stopping=early_stopping,
        repetition_penalty=repetition_penalty, no_repeat_ngram_size=no_repeat_ngram_size,
        eos_token_id=eos_token_id, pad_token_id=pad_token_id, use_cache=use_cache,
        sliding_context=sliding_context)
    return generate_with(model, input_ids, config, attention_mask=attention_mask)


def generate_with(model: nn.Module, input_ids: Tensor, config: GenerationConfig, *,
                  attention_mask: Tensor | None = None) -> Tensor:
    """`generate` with its settings given as one `GenerationConfig`.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=16, n_layer=1, n_head=2, n_embd=8))
    >>> config = GenerationConfig(max_new_tokens=3, strategy="beam", num_beams=2)
    >>> generate_with(model, torch.tensor([[1, 2]]), config).shape
    torch.Size([1, 5])
    """
    check_type("config", config, GenerationConfig, "a GenerationConfig")
    check_model_and_ids(model, input_ids, config, attention_mask)
    c = config
    shared = dict(repetition_penalty=c.repetition_penalty,
                  no_repeat_ngram_size=c.no_repeat_ngram_size, eos_token_id=c.eos_token_id,
                  pad_token_id=c.pad_token_id, attention_mask=attention_mask)
    beams = c.num_beams if c.strategy == "beam" else 1  # beam search copies each prompt
    beam_mask = None if attention_mask is None else attention_mask.repeat_interleave(beams, 0)
    max_len, context = input_ids.size(1) + c.max_new_tokens, model_context(model)
    next_logits = NextTokenLogits(  # a course Llama's cache holds max_len positions
        model, use_cache=c.use_cache, attention_mask=beam_mask,
        max_len=max_len if context is None else min(max_len, context),
        sliding_context=c.sliding_context)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if c.strategy == "greedy" or (c.strategy == "beam" and c.num_beams == 1):
                return greedy_search(next_logits, input_ids, c.max_new_tokens, **shared)
            if c.strategy == "sample":
                return sample(next_logits, input_ids, c.max_new_tokens,
                              generator=c.make_generator(input_ids.device),
                              temperature=c.temperature, top_k=c.top_k, top_p=c.top_p,
                              min_p=c.min_p, **shared)
            return beam_search(next_logits, input_ids, c.max_new_tokens, num_beams=c.num_beams,
                               length_penalty=c.length_penalty, early_stopping=c.early_stopping,
                               **shared)
    finally:
        model.train(was_training)


def _context_and_vocab(model: nn.Module) -> tuple[int | None, int]:
    """(longest sequence the model takes or None if unbounded, vocab_size)."""
    config = model.config if isinstance(model, (GPT, Llama)) else model.config.get_text_config()
    return model_context(model), config.vocab_size


def check_model_and_ids(model: object, input_ids: object, config: GenerationConfig,
                        attention_mask: object) -> None:
    """Refuse what `generate` cannot run: the model, the prompt (and its mask), the context
    left for config.max_new_tokens, ids outside the vocabulary."""
    check_model(model)
    if isinstance(input_ids, Tensor) and input_ids.dim() == 2 and input_ids.size(1) == 0:
        raise ValueError("the prompt is empty (T = 0): input_ids needs at least one token to "
                         "predict from; start with a token such as <|endoftext|> (BOS)")
    check_token_ids(input_ids, "input_ids")
    if attention_mask is not None:
        check_left_padded(check_attention_mask(attention_mask, tuple(input_ids.shape),
                                               device=input_ids.device))
    context, vocab_size = _context_and_vocab(model)
    T, new = input_ids.size(1), config.max_new_tokens
    if config.sliding_context:
        if context is None:
            raise ValueError(f"sliding_context=True: {type(model).__name__} has no fixed "
                             f"context length to slide; leave sliding_context False")
        context = None  # each step sees the last context-many tokens
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
