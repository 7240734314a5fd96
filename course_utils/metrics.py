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
    import torch
    from torch import Tensor, nn

__all__ = ["bits_per_byte", "next_token_loss", "text_loss", "check_token_stream", "check_model",
           "check_block_size"]


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


def next_token_loss(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Return the loss on a batch: the mean cross-entropy of predicting y from x, where
    model(x) gives (B, T, V) logits and y (B, T) holds the token after each of x's."""
    import torch.nn.functional as F

    logits = model(x)  # (B, T, V)
    return F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))  # mean over B·T tokens


def check_token_stream(name: str, value: object, min_length: int = 1, *,
                       vocab_size: int | None = None, fix: str | None = None) -> Tensor:
    """Check that `value` is a 1-D LongTensor of at least `min_length` token ids, each in
    0..vocab_size - 1 if `vocab_size` is given; `fix` says why that many (added to the message
    when there are too few)."""
    import torch

    hint = "use torch.tensor(ids, dtype=torch.long)"
    ids = check_tensor(name, value, kind="integer", fix=hint)
    if ids.dtype != torch.long:
        raise TypeError(f"{name} must hold token ids as torch.long, got {ids.dtype}; {hint}")
    if ids.dim() != 1:
        raise ValueError(f"{name} must be 1-D (one long stream of token ids), got shape "
                         f"{tuple(ids.shape)}; flatten it with {name}.view(-1)")
    if len(ids) < min_length:
        raise ValueError(f"{name} has {len(ids)} tokens, needs at least {min_length}"
                         + (f" ({fix}): use more text" if fix else ""))
    if vocab_size is not None and len(ids) and not 0 <= ids.min() <= ids.max() < vocab_size:
        raise ValueError(f"{name} holds ids from {int(ids.min())} to {int(ids.max())}, outside "
                         f"0..{vocab_size - 1}, the model's vocab; encode with its tokenizer")
    return ids


def check_model(name: str, value: object) -> torch.device:
    """Check that `value` is a torch.nn.Module with parameters; return the device they are on."""
    from torch import nn

    parameter = next(check_type(name, value, nn.Module, "a torch.nn.Module").parameters(), None)
    if parameter is None:
        raise ValueError(f"{name} ({type(value).__name__}) has no parameters")
    return parameter.device


def check_block_size(name: str, block_size: object, model: nn.Module) -> int:
    """Return block_size, or the model's (model.config.block_size) when it is None. A longer one
    is refused: the model has no positions beyond its own block_size."""
    models = getattr(getattr(model, "config", None), "block_size", None)
    if block_size is None and models is None:
        raise ValueError(f"{name}=None means the model's block_size, but the model has no "
                         f"config.block_size; pass {name}")
    block_size = models if block_size is None else check_int(name, block_size, minimum=1)
    if models is not None and block_size > models:
        raise ValueError(f"{name}={block_size} exceeds the model's block_size={models}; use at "
                         f"most {models}, or None for the model's")
    return block_size


def text_loss(model: nn.Module, data: Tensor, block_size: int | None = None,
              stride: int | None = None, batch_size: int = 16) -> float:
    """Return the mean cross-entropy (nats per token) of predicting every token of `data` after
    the first, each exactly once.

    `data` is a 1-D LongTensor of token ids; `model` maps (B, T) ids to (B, T, V) logits.
    Windows of block_size tokens (default: the model's block_size) slide by `stride` (default
    block_size // 2); each window scores only the tokens the previous one did not, so every
    prediction but the first window's sees at least block_size - stride tokens of context.

    >>> import torch
    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> abs(text_loss(model, torch.tensor([0, 1, 2, 3] * 5), block_size=8) - math.log(4)) < 0.05
    True
    """
    import torch
    import torch.nn.functional as F

    device = check_model("model", model)
    vocab_size = getattr(getattr(model, "config", None), "vocab_size", None)
    check_token_stream("data", data, min_length=2, vocab_size=vocab_size)
    block_size = check_block_size("block_size", block_size, model)
    stride = max(block_size // 2, 1) if stride is None else stride
    check_int("stride", stride, minimum=1, maximum=block_size,
              fix="a stride above block_size would skip tokens")
    check_int("batch_size", batch_size, minimum=1)
    length = min(block_size, len(data) - 1)  # tokens fed per window
    last = len(data) - 1 - length  # the last window ends at the last target
    starts = sorted(set(range(0, last, stride)) | {last})
    was_training = model.training
    model.eval()
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
