"""Measuring a language model on text: the loss of every token, and bits per byte.

A language model's loss on held-out text is its mean surprise per token, -ln P(token | before),
in nats. Two measures make such numbers comparable:

- `text_loss(model, token_ids, block_size)` scores every token of a text exactly once (sliding
  windows, so each prediction sees plenty of context): the number to report, unlike a loss on a
  few random batches.
- `bits_per_byte(loss, num_tokens, num_bytes)` turns nats per token into bits per byte of the
  text. A loss per token depends on the tokenizer (longer tokens: fewer predictions, each
  harder); bits per byte do not, so an n-gram over characters and a Transformer over BPE tokens
  can be compared on the same text.

Notebook 02 compares models with these; notebook 04 trains them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from course_utils.validation import check_int, check_number, check_tensor, check_type

if TYPE_CHECKING:
    from torch import Tensor, nn

__all__ = ["bits_per_byte", "text_loss", "check_token_stream"]


def bits_per_byte(loss_nats_per_token: float, num_tokens: int, num_bytes: int) -> float:
    """Convert a loss in nats per token into bits per byte of the text it was measured on.

    The total, loss · num_tokens nats, is what it costs to encode the whole text; per byte
    (/ num_bytes) and in bits (/ ln 2) it does not depend on how the text was cut into tokens.

    >>> bits_per_byte(math.log(2), num_tokens=1000, num_bytes=1000)  # 1 bit for each byte
    1.0
    >>> bits_per_byte(math.log(2), num_tokens=250, num_bytes=1000)  # 4 bytes per token
    0.25
    """
    loss = check_number("loss_nats_per_token", loss_nats_per_token, minimum=0,
                        fix="a cross-entropy is never negative")
    check_int("num_tokens", num_tokens, minimum=1)
    check_int("num_bytes", num_bytes, minimum=1)
    return loss * num_tokens / (num_bytes * math.log(2))


def check_token_stream(name: str, value: object, min_length: int = 1) -> Tensor:
    """Check that `value` is a 1-D LongTensor of token ids with at least `min_length` ids."""
    import torch

    fix = "use torch.tensor(ids, dtype=torch.long)"
    ids = check_tensor(name, value, kind="integer", fix=fix)
    if ids.dtype != torch.long:
        raise TypeError(f"{name} must hold token ids as torch.long, got {ids.dtype}; {fix}")
    if ids.dim() != 1:
        raise ValueError(f"{name} must be 1-D (one long stream of token ids), got shape "
                         f"{tuple(ids.shape)}; flatten it with {name}.view(-1)")
    if len(ids) < min_length:
        raise ValueError(f"{name} has {len(ids)} tokens, needs at least {min_length}")
    return ids


def text_loss(model: nn.Module, data: Tensor, block_size: int, stride: int | None = None,
              batch_size: int = 16) -> float:
    """Return the mean cross-entropy (nats per token) of predicting every token of `data` after
    the first, each exactly once.

    `data` is a 1-D LongTensor of token ids; `model` maps (B, T) ids to (B, T, V) logits.
    Windows of block_size tokens slide by `stride` (default block_size // 2); each window scores
    only the tokens the previous one did not, so every prediction but the first window's sees at
    least block_size - stride tokens of context.

    >>> import torch
    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> abs(text_loss(model, torch.tensor([0, 1, 2, 3] * 5), block_size=8) - math.log(4)) < 0.05
    True
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    check_type("model", model, nn.Module, "a torch.nn.Module")
    check_token_stream("data", data, min_length=2)
    check_int("block_size", block_size, minimum=1)
    stride = max(block_size // 2, 1) if stride is None else stride
    check_int("stride", stride, minimum=1, maximum=block_size,
              fix="a stride above block_size would skip tokens")
    check_int("batch_size", batch_size, minimum=1)
    length = min(block_size, len(data) - 1)  # tokens fed per window
    last = len(data) - 1 - length  # the last window ends at the last target
    starts = sorted(set(range(0, last, stride)) | {last})
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, scored_until = 0.0, 1  # targets before this position are scored (token 0 never is)
    try:
        with torch.no_grad():
            for i in range(0, len(starts), batch_size):
                group = starts[i:i + batch_size]
                x = torch.stack([data[s:s + length] for s in group]).to(device)  # (B, T)
                y = torch.stack([data[s + 1:s + length + 1] for s in group]).to(device)
                losses = F.cross_entropy(model(x).transpose(1, 2), y, reduction="none")  # (B, T)
                for row, s in enumerate(group):
                    first = scored_until - (s + 1)  # targets s+1 .. s+first were scored before
                    total += losses[row, first:].sum().item()
                    scored_until = s + 1 + length
    finally:
        model.train(was_training)
    assert scored_until == len(data)  # every target scored exactly once
    return total / (len(data) - 1)
