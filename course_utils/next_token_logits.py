"""The model as the function the decoding strategies take: token ids so far (B, T) -> logits
of the next token (B, V), with a KV cache.

`NextTokenLogits` wraps the course `GPT` or a transformers causal LM; with the cache it feeds
only the tokens the previous call did not see. `course_utils.generation.generate` drives it
with the strategies of `course_utils.strategies`.

Left out: models that are not causal LMs (encoder-decoders), and caches kept across
different texts (each new text starts a new cache).
"""

from __future__ import annotations

import inspect

import torch
from torch import Tensor, nn

from course_utils.model import GPT, KVCache, check_token_ids
from course_utils.validation import check_bool, check_same_device, check_tensor, short_repr

__all__ = ["NextTokenLogits", "check_model"]


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
        check_model(model)
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


def check_model(model: object) -> None:
    """Refuse anything `generate` cannot drive: not the course GPT or a transformers causal
    LM, or weights on the meta device."""
    if not isinstance(model, GPT):
        from transformers import PreTrainedModel  # a course requirement, imported when needed

        if not (isinstance(model, PreTrainedModel) and callable(getattr(model, "generate", None))):
            raise TypeError(f"model must be the course GPT or a transformers causal LM such as "
                            f"GPT2LMHeadModel, got {type(model).__name__}")
    if any(p.is_meta for p in model.parameters()):
        raise ValueError("model is on the meta device: its weights have shapes but no values; "
                         "load or initialise it on a real device such as 'cpu'")
