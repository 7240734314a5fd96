"""The model as the function the decoding strategies take: token ids so far (B, T) -> logits
of the next token (B, V), with a KV cache.

`NextTokenLogits` wraps the course `GPT`, the course `Llama` or a transformers causal LM; with
the cache it feeds only the tokens the previous call did not see. `course_utils.generation.
generate` drives it with the strategies of `course_utils.strategies`. Given the prompts'
`attention_mask` (left padding, `course_utils.batching`), it passes the model the mask of
every token so far (generated tokens are real: 1) and their positions, as transformers'
generate does. With `sliding_context=True`, a text longer than the model's context is cut to
its last context-many tokens at each step (see `__init__`).

Left out: models that are not causal LMs (encoder-decoders), and caches kept across
different texts (each new text starts a new cache).
"""

from __future__ import annotations

import inspect

import torch
from torch import Tensor, nn

from course_utils.batching import (check_attention_mask, check_left_padded,
                                   position_ids_from_mask)
from course_utils.llama import Llama
from course_utils.model import GPT, KVCache, check_token_ids
from course_utils.validation import (check_bool, check_int, check_same_device, check_tensor,
                                     short_repr)

__all__ = ["NextTokenLogits", "check_model", "model_context"]


class NextTokenLogits:
    """The model as a function: token ids so far (B, T) -> logits of the next token (B, V).

    Works for the course `GPT` and `Llama` and for transformers causal LMs. With
    use_cache=True, while each call extends the ids of the previous one row by row (after
    `reorder`, which says which rows continue which), it feeds only the new tokens and keeps the
    keys and values of the others in a KV cache (a `KVCache`, a `StaticKVCache`, or
    transformers' `DynamicCache`); any other call (a new text, another batch) starts a new
    cache. A transformers model without a KV cache (no past_key_values: Mamba) recomputes.
    The logits (float32, as transformers processes them) are always those of the ids given.

    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=1, n_embd=4)).eval()
    >>> next_logits = NextTokenLogits(model)
    >>> next_logits(torch.tensor([[1, 2]])).shape, next_logits.seen  # the prompt: 2 tokens
    (torch.Size([1, 10]), 2)
    >>> next_logits(torch.tensor([[1, 2, 7]])).shape, next_logits.seen  # fed only token 7
    (torch.Size([1, 10]), 3)
    """

    def __init__(self, model: nn.Module, *, use_cache: bool = True,
                 attention_mask: Tensor | None = None, max_len: int | None = None,
                 sliding_context: bool = False) -> None:
        """attention_mask (B, T0): the prompts' mask, left-padded; each call's rows continue
        these prompts, and the tokens after T0 are real. max_len: the positions a course
        Llama's preallocated cache holds (default: its block_size; `generate` passes prompt +
        max_new_tokens). sliding_context: past the model's context, each call sees the last
        context-many tokens, recomputed without the cache (dropping the oldest token changes
        every later token's keys and values: they attended to it, and their positions move)."""
        check_model(model)
        self.model, self.use_cache = model, check_bool("use_cache", use_cache)
        self.is_course_gpt = isinstance(model, GPT)
        self.is_course = isinstance(model, (GPT, Llama))
        parameters = inspect.signature(model.forward).parameters
        # transformers computes the logits of the last position only, when the model can.
        self.last_only = not self.is_course and "logits_to_keep" in parameters
        self.takes_positions = self.is_course or "position_ids" in parameters
        # A forward without past_key_values (Mamba: a recurrent state, not keys and values)
        # is recomputed at every call, as with use_cache=False: the same logits.
        self.has_kv_cache = self.is_course or "past_key_values" in parameters
        self.use_cache = self.use_cache and self.has_kv_cache
        self.max_len = check_int("max_len", max_len, minimum=1, optional=True)
        self.window = None
        if check_bool("sliding_context", sliding_context):
            self.window = model_context(model)
            if self.window is None:
                raise ValueError(f"sliding_context=True: {type(model).__name__} has no fixed "
                                 f"context length to slide; leave sliding_context False")
        self.prompt_mask: Tensor | None = None  # (B, T0) long, or None: every token is real
        if attention_mask is not None:
            mask = check_tensor("attention_mask", attention_mask, ndim=2, shape="(B, T)")
            mask = check_attention_mask(mask, tuple(mask.shape))
            check_left_padded(mask)
            self.prompt_mask = None if mask.all() else mask.long()
        self._forget()

    def _forget(self) -> None:
        """Empty the cache: the next call feeds every token."""
        self.cache: object = KVCache() if self.is_course_gpt else None  # made when needed
        self.seen = 0  # tokens per row whose keys and values are in the cache
        self.previous: Tensor | None = None  # the ids of the last call (B, seen)

    def __call__(self, input_ids: Tensor) -> Tensor:
        check_token_ids(check_tensor("input_ids", input_ids), "input_ids")
        mask = self._mask(input_ids)
        if self.window is not None and input_ids.size(1) > self.window:
            self._forget()  # past the context: recompute the last window, see __init__
            window = slice(-self.window, None)
            return self._logits(input_ids[:, window], None, None if mask is None else
                                mask[:, window])
        if not self.use_cache:
            return self._logits(input_ids, None, mask)
        previous = self.previous
        if not (previous is not None and input_ids.shape[0] == previous.shape[0]
                and input_ids.size(1) > self.seen and input_ids.device == previous.device
                and torch.equal(input_ids[:, :self.seen], previous)):
            self._forget()  # not a continuation of the cached ids
        if isinstance(self.model, Llama):  # its cache is preallocated: check that T fits
            max_len = self.max_len or self.model.config.block_size
            if input_ids.size(1) > max_len:
                raise ValueError(f"input_ids has T={input_ids.size(1)} tokens but the KV cache "
                                 f"holds max_len={max_len}; pass NextTokenLogits(..., max_len="
                                 f"prompt length + max_new_tokens)")
            if self.cache is None:
                self.cache = self.model.make_kv_cache(batch_size=input_ids.size(0),
                                                      max_len=max_len)
        # subtle: a call stopped half-way through the layers (Ctrl-C) leaves some layers'
        # caches longer than others; previous = None makes the next call start again.
        self.previous = None
        logits = self._logits(input_ids[:, self.seen:], self.cache, mask)  # only the new tokens
        self.seen, self.previous = input_ids.size(1), input_ids.clone()
        return logits

    def _mask(self, input_ids: Tensor) -> Tensor | None:
        """The attention mask of input_ids (B, T): the prompts' mask, then 1s; None: no padding."""
        if self.prompt_mask is None:
            return None
        (B, T), (B0, T0) = input_ids.shape, self.prompt_mask.shape
        if B != B0 or T < T0:
            raise ValueError(f"input_ids {(B, T)} do not continue the prompts of attention_mask "
                             f"{(B0, T0)}: give the mask of these prompts")
        check_same_device(input_ids=input_ids, attention_mask=self.prompt_mask)
        return torch.cat([self.prompt_mask, self.prompt_mask.new_ones(B, T - T0)], dim=1)

    def _logits(self, input_ids: Tensor, cache: object, mask: Tensor | None) -> Tensor:
        padding = {}
        if mask is not None:  # the mask of every token so far; positions of the new ones
            padding["attention_mask"] = mask
            if self.takes_positions:
                padding["position_ids"] = position_ids_from_mask(mask)[:, -input_ids.size(1):]
        if self.is_course:
            logits = self.model(input_ids, kv_cache=cache, **padding)  # (B, T, V)
        else:
            extra = {"logits_to_keep": 1} if self.last_only else {}
            if self.has_kv_cache:
                extra["past_key_values"] = cache
            out = self.model(input_ids=input_ids, use_cache=self.use_cache, **extra, **padding)
            if self.use_cache:
                self.cache = out.past_key_values  # made by the model on the first call
            logits = out.logits
        return logits[:, -1].float()  # (B, V)

    def reorder(self, rows: Tensor) -> None:
        """Row i of the next call continues row rows[i] of the last one (for beam search)."""
        check_tensor("rows", rows, ndim=1, kind="integer", shape="(B,)")
        known = self.previous if self.previous is not None else self.prompt_mask
        if known is None:  # nothing cached, no mask
            return
        check_same_device(rows=rows, input_ids=known)
        B = known.size(0)
        if rows.numel() == 0 or rows.min() < 0 or rows.max() >= B:
            raise ValueError(f"rows must hold row numbers of the previous call, in 0..{B - 1}, "
                             f"got {short_repr(rows.tolist())}")
        if self.prompt_mask is not None:
            self.prompt_mask = self.prompt_mask[rows]
        if self.previous is None:
            return
        self.previous = self.previous[rows]
        if self.is_course:
            self.cache.reorder(rows)
        else:
            self.cache.reorder_cache(rows)


def model_context(model: nn.Module) -> int | None:
    """The most tokens the model reads at once (block_size, n_positions or
    max_position_embeddings), or None if it has no such limit."""
    if isinstance(model, (GPT, Llama)):
        return model.config.block_size
    config = model.config.get_text_config()
    return getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings",
                                                           None)


def check_model(model: object) -> None:
    """Refuse anything `generate` cannot drive: not the course GPT or Llama or a transformers
    causal LM (an encoder-decoder such as T5 is not one), or weights on the meta device."""
    if not isinstance(model, (GPT, Llama)):
        from transformers import PreTrainedModel  # a course requirement, imported when needed

        if not (isinstance(model, PreTrainedModel) and callable(getattr(model, "generate", None))):
            raise TypeError(f"model must be the course GPT or Llama or a transformers causal LM "
                            f"such as GPT2LMHeadModel, got {type(model).__name__}")
        if model.config.is_encoder_decoder:  # it has generate, but reads decoder_input_ids
            raise TypeError(f"model must be a causal LM (decoder only), got the encoder-decoder "
                            f"{type(model).__name__}; use its own model.generate(...)")
    if any(p.is_meta for p in model.parameters()):
        raise ValueError("model is on the meta device: its weights have shapes but no values; "
                         "load or initialise it on a real device such as 'cpu'")
