"""Bad inputs for batches of prompts of different lengths: left_pad, the models' attention_mask
and position_ids, and generation's attention_mask, max_len and sliding_context."""

from __future__ import annotations

import functools

import torch

from bad_inputs import bad

from course_utils.batching import left_pad, padding_lengths, position_ids_from_mask
from course_utils.generation import GenerationConfig, NextTokenLogits, generate
from course_utils.llama import Llama, LlamaConfig
from course_utils.llama_blocks import rope_tables
from course_utils.model import GPT, GPTConfig
from course_utils.strategies import greedy_search

_GPT = GPT(GPTConfig(vocab_size=16, block_size=8, n_layer=1, n_head=2, n_embd=8))
_IDS = torch.tensor([[1, 2, 3], [4, 5, 6]])
_MASK = torch.tensor([[1, 1, 1], [0, 1, 1]])


@functools.cache
def _llama() -> Llama:
    return Llama(LlamaConfig(vocab_size=16, block_size=8, n_layer=1, n_head=2, n_kv_head=1,
                             n_embd=8, intermediate_size=8))


def _gpt(**kwargs: object) -> torch.Tensor:
    return _GPT(_IDS, **kwargs)


def _gen(mask: object, **settings: object) -> torch.Tensor:
    return generate(_GPT, _IDS, 2, attention_mask=mask, **settings)


def _past_max_len() -> None:
    """A prompt that fills the Llama's cache, then one more token."""
    next_logits = NextTokenLogits(_llama(), max_len=3)
    next_logits(_IDS)
    next_logits(torch.cat([_IDS, _IDS[:, :1]], dim=1))


CASES = [
    # left_pad
    bad("left_pad(prompts=tensor)", lambda: left_pad(_IDS, 0), TypeError, "prompts", "list"),
    bad("left_pad(no prompts)", lambda: left_pad([], 0), ValueError, "prompts", "empty"),
    bad("left_pad(an empty prompt)", lambda: left_pad([[1], []], 0), ValueError, "prompts[1]",
        "at least one token"),
    bad("left_pad(a negative id)", lambda: left_pad([[1, -2]], 0), ValueError, "prompts[0][1]"),
    bad("left_pad(a float id)", lambda: left_pad([[1, 2.5]], 0), TypeError, "prompts[0][1]"),
    bad("left_pad(a 2-D tensor prompt)", lambda: left_pad([_IDS], 0), ValueError, "prompts[0]",
        "(T,)"),
    bad("left_pad(pad_token_id=None)", lambda: left_pad([[1]], None), TypeError, "pad_token_id",
        "eos_token_id"),
    bad("padding_lengths(right padding)", lambda: padding_lengths(torch.tensor([[1, 0]]),
                                                                  _IDS[:1, :2]), ValueError,
        "attention_mask", "left"),
    bad("greedy_search(attention_mask of T - 1)", lambda: greedy_search(
        lambda ids: torch.zeros(2, 16), _IDS, 1, attention_mask=_MASK[:, 1:]), ValueError,
        "attention_mask", "(2, 3)"),
    bad("position_ids_from_mask(a mask of 2s)", lambda: position_ids_from_mask(torch.tensor(
        [[0, 2, 2]])), ValueError, "attention_mask", "0 (padding) and 1"),
    bad("position_ids_from_mask(1-D)", lambda: position_ids_from_mask(torch.ones(3)),
        ValueError, "attention_mask", "(B, S)"),
    # GPT.forward and Llama.forward
    bad("GPT(attention_mask of T - 1)", lambda: _gpt(attention_mask=_MASK[:, 1:]), ValueError,
        "attention_mask", "(2, 3)"),
    bad("GPT(attention_mask 1-D)", lambda: _gpt(attention_mask=_MASK[0]), ValueError,
        "attention_mask", "(B, S)"),
    bad("GPT(attention_mask of 2s)", lambda: _gpt(attention_mask=2 * _MASK), ValueError,
        "attention_mask", "0 (padding) and 1"),
    bad("GPT(attention_mask list)", lambda: _gpt(attention_mask=[[1, 1, 1]]), TypeError,
        "attention_mask"),
    bad("GPT(position_ids float)", lambda: _gpt(position_ids=torch.zeros(2, 3)), TypeError,
        "position_ids", "float32"),
    bad("GPT(position_ids of T - 1)", lambda: _gpt(position_ids=torch.zeros(2, 2,
                                                                          dtype=torch.long)),
        ValueError, "position_ids", "(2, 3)"),
    bad("GPT(position_ids = block_size)", lambda: _gpt(position_ids=torch.full((2, 3), 8)),
        ValueError, "position_ids", "block_size=8"),
    bad("GPT(negative position_ids)", lambda: _gpt(position_ids=torch.full((2, 3), -1)),
        ValueError, "position_ids", "-1"),
    bad("Llama(attention_mask of T + 1)", lambda: _llama()(_IDS, attention_mask=torch.ones(
        2, 4)), ValueError, "attention_mask", "(2, 3)"),
    bad("Llama(position_ids 3-D)", lambda: _llama()(_IDS, position_ids=torch.zeros(
        1, 2, 3, dtype=torch.long)), ValueError, "position_ids", "(B, T)"),
    bad("rope_tables(positions 3-D)", lambda: rope_tables(4, torch.zeros(1, 1, 3)), ValueError,
        "positions", "(B, T)"),
    # generation
    bad("generate(right padding)", lambda: _gen(torch.tensor([[1, 1, 1], [1, 1, 0]])),
        ValueError, "attention_mask", "left", "left_pad"),
    bad("generate(a row without a real token)", lambda: _gen(torch.tensor([[1, 1, 1],
                                                                           [0, 0, 0]])),
        ValueError, "attention_mask", "row 1", "no real token"),
    bad("generate(mask of another shape)", lambda: _gen(_MASK[:1]), ValueError,
        "attention_mask", "(2, 3)"),
    bad("generate(mask of -1s)", lambda: _gen(-_MASK), ValueError, "attention_mask", "0"),
    bad("generate(mask as a list)", lambda: _gen([[1, 1, 1], [0, 1, 1]]), TypeError,
        "attention_mask"),
    bad("generate(sliding_context=1)", lambda: generate(_GPT, _IDS, 2, sliding_context=1),
        TypeError, "sliding_context"),
    bad("GenerationConfig(sliding_context='yes')", lambda: GenerationConfig(
        sliding_context="yes"), TypeError, "sliding_context"),
    bad("NextTokenLogits(right-padded mask)", lambda: NextTokenLogits(
        _GPT, attention_mask=torch.tensor([[1, 0]])), ValueError, "attention_mask", "left"),
    bad("NextTokenLogits(max_len=0)", lambda: NextTokenLogits(_llama(), max_len=0), ValueError,
        "max_len"),
    bad("NextTokenLogits(llama)(T > max_len)", lambda: NextTokenLogits(_llama(), max_len=2)(
        _IDS), ValueError, "max_len=2", "max_new_tokens"),
    bad("NextTokenLogits(llama) steps past max_len", _past_max_len, ValueError, "max_len=3",
        "max_new_tokens"),
    bad("NextTokenLogits(mask)(other prompts)", lambda: NextTokenLogits(
        _GPT, attention_mask=_MASK)(_IDS[:1]), ValueError, "attention_mask", "(2, 3)"),
]
