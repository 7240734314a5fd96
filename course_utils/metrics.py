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
- `loss_by_position(model, data, block_size)`: the mean loss at each position of a window, over
  many windows: how much a model gains from each extra token of context.
- `open_vocabulary_bits(lm, tokens)` scores an n-gram model whose vocabulary comes from
  training text only: a token it never saw is predicted as `UNKNOWN`, then spelled out in UTF-8
  at 8 bits a byte, so nothing in the held-out text is impossible and nothing is free.

Notebook 02 compares models with these; notebook 04 trains them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from course_utils.validation import (check_int, check_number, check_same_device, check_str,
                                     check_tensor, check_type, short_repr)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import torch
    from torch import Tensor, nn

    from course_utils.ngrams import NGramLM

UNKNOWN = "<unk>"  # the token that stands for every token never seen in training

__all__ = ["bits_per_byte", "UNKNOWN", "open_vocabulary_bits", "next_token_loss", "text_loss",
           "loss_by_position",
           "check_token_stream", "check_model",
           "check_block_size", "check_targets", "model_logits", "vocab_size_of",
           "check_finite_loss"]


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
    try:  # the ratio first: a large loss times many tokens would overflow before the division
        bits = loss * (check_int("num_tokens", num_tokens, minimum=1)
                       / check_int("num_bytes", num_bytes, minimum=1)) / math.log(2)
    except OverflowError:
        bits = math.inf
    if not math.isfinite(bits):
        raise ValueError(f"bits_per_byte({loss:g}, {num_tokens}, {num_bytes}) is beyond a float's "
                         f"range; check loss_nats_per_token, a mean per token (ln(vocab) is "
                         f"typical), and num_tokens and num_bytes")
    return bits


def open_vocabulary_bits(lm: NGramLM, tokens: Sequence, *, unknown: str = UNKNOWN) -> float:
    """Return the bits `lm` needs to encode `tokens`, including tokens it never saw in training.

    A token outside `lm.vocab` is scored as `unknown` (the model's probability that *some* new
    token comes next: fit with `vocab=[unknown]` so that it has one), then its characters are
    spelled out in UTF-8 at 8 bits a byte, a uniform byte model. The total is a code length for
    the whole text, so total / bytes is a bits per byte comparable with a byte-level tokenizer's;
    with no unknown token it is -log2 P(tokens). math.inf if a known token has probability 0.

    >>> from course_utils.ngrams import NGramLM
    >>> lm = NGramLM(1, "add_k").fit(list("abab"), vocab=[UNKNOWN])  # P = 3/7, 3/7, 1/7
    >>> round(open_vocabulary_bits(lm, list("az")), 3)  # -log2(3/7) - log2(1/7) + 8 bits for z
    12.03
    """
    from course_utils.ngram_counts import check_tokens
    from course_utils.ngrams import NGramLM

    check_type("lm", lm, NGramLM, "a fitted NGramLM")
    known = set(lm.vocab)  # a ValueError if lm is not fitted
    unknown = check_str("unknown", unknown)
    tokens = check_tokens("tokens", list(tokens) if isinstance(tokens, str) else tokens)
    new = [token for token in tokens if token not in known]
    if new and unknown not in known:
        raise ValueError(f"tokens holds {len(new):,} token(s) outside lm.vocab, e.g. "
                         f"{short_repr(new[0])}, and lm has no {unknown!r} token to predict them; "
                         f"fit it with vocab=[{unknown!r}]")
    if any(not isinstance(token, str) for token in new):
        raise TypeError(f"an unknown token is spelled out in UTF-8, so it must be a str, got "
                        f"{short_repr(next(t for t in new if not isinstance(t, str)))}; for token "
                        f"ids, fit with vocab=range(vocab_size) so that none is unknown")
    mapped = [token if token in known else unknown for token in tokens]
    spelled = 8 * sum(len(token.encode("utf-8")) for token in new)
    return -lm.logprob(mapped) / math.log(2) + spelled


def vocab_size_of(model: nn.Module) -> int | None:
    """The model's vocab size: model.config.vocab_size (the course's GPT, transformers' models),
    else the size of its first embedding table; None when neither says."""
    from torch import nn

    size = getattr(getattr(model, "config", None), "vocab_size", None)
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    embedding = next((m for m in model.modules() if isinstance(m, nn.Embedding)), None)
    return None if embedding is None else embedding.num_embeddings


def model_logits(model: nn.Module, x: Tensor) -> Tensor:
    """Return model(x) as (B, T, V) logits: a tensor, or an output with .logits (transformers).
    A model that fails on token ids, or returns another shape, is a ValueError naming `model`."""
    import torch

    try:
        out = model(x)
    except (RuntimeError, IndexError) as error:
        if isinstance(error, torch.cuda.OutOfMemoryError):
            raise
        raise ValueError(f"model failed on token ids of shape {tuple(x.shape)} "
                         f"({short_repr(str(error), 200)}); it must map (B, T) token ids to "
                         f"(B, T, vocab_size) logits") from error
    logits = getattr(out, "logits", out)
    if (not isinstance(logits, torch.Tensor) or not logits.is_floating_point()
            or logits.dim() != 3 or logits.shape[:2] != x.shape or logits.size(-1) == 0):
        raise ValueError(f"model must return (B, T, vocab_size) = ({x.size(0)}, {x.size(1)}, V) "
                         f"floating-point logits (a tensor, or an output with .logits), got "
                         f"{short_repr(logits)}")
    return logits


def check_targets(model: nn.Module, x: object, y: object) -> tuple[Tensor, Tensor]:
    """Check token ids x and targets y: (B, T) integer tensors of one shape, on one device,
    within the model's vocab (negative ids such as -100, torch's ignore_index, are refused:
    every target counts). Return them as torch.long."""
    import torch

    for name, ids in (("x", x), ("y", y)):
        check_tensor(name, ids, ndim=2, kind="integer", shape="(B, T)")
    if x.shape != y.shape or not x.numel():
        raise ValueError(f"x and y must have one shape (B, T), not empty, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}; y is x shifted by one token")
    check_same_device(x=x, y=y)
    vocab_size = vocab_size_of(model)
    for name, ids in (("x", x), ("y", y)):
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or (vocab_size is not None and high >= vocab_size):
            raise ValueError(f"{name} holds ids from {low} to {high}, outside 0.."
                             f"{'' if vocab_size is None else vocab_size - 1}, the model's vocab"
                             f" (every target is scored: no ignore_index such as -100)")
    return x.to(torch.long), y.to(torch.long)


def next_token_loss(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Return the loss on a batch: the mean cross-entropy of predicting y from x, where
    model(x) gives (B, T, V) logits and y (B, T) holds the token after each of x's. Every
    target counts: ids outside 0..V-1 (torch's ignore_index, -100, too) are a ValueError."""
    import torch.nn.functional as F

    check_model("model", model)
    x, y = check_targets(model, x, y)
    logits = model_logits(model, x)  # (B, T, V)
    if int(y.max()) >= logits.size(-1):
        raise ValueError(f"y holds the id {int(y.max())}, but the model gives logits for "
                         f"{logits.size(-1)} tokens only")
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))  # mean of B·T


def check_token_stream(name: str, value: object, min_length: int = 1, *,
                       vocab_size: int | None = None, fix: str | None = None,
                       check_ids: bool = True) -> Tensor:
    """Check that `value` is a 1-D LongTensor of at least `min_length` token ids, each in
    0..vocab_size - 1 if `vocab_size` is given; `fix` says why that many (added to the message
    when there are too few). check_ids=False skips reading every id (a caller in a loop checks
    only the ids it takes)."""
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
    outside = check_ids and len(ids) and (
        ids.min() < 0 or (vocab_size is not None and ids.max() >= vocab_size))
    if outside:
        vocab = "0.. (ids are never negative)" if vocab_size is None else \
            f"0..{vocab_size - 1}, the model's vocab"
        raise ValueError(f"{name} holds ids from {int(ids.min())} to {int(ids.max())}, outside "
                         f"{vocab}; encode with its tokenizer")
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


def window_losses(model: nn.Module, data: Tensor, starts: Sequence[int], length: int,
                  device: torch.device) -> Tensor:
    """Return the (B, length) losses (nats) of the windows data[s : s + length] predicting
    data[s + 1 : s + length + 1], one row per start s (B = len(starts)).

    >>> import torch
    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> window_losses(model, torch.tensor([0, 1, 2, 3] * 3), [0, 4], 6, "cpu").shape
    torch.Size([2, 6])
    """
    import torch
    import torch.nn.functional as F

    x = torch.stack([data[s:s + length] for s in starts]).to(device)  # (B, T)
    y = torch.stack([data[s + 1:s + length + 1] for s in starts]).to(device)
    logits = model_logits(model, x)  # (B, T, V)
    return F.cross_entropy(logits.transpose(1, 2), y, reduction="none")  # (B, T)


def text_loss(model: nn.Module, data: Tensor, block_size: int | None = None,
              stride: int | None = None, batch_size: int = 16) -> float:
    """Return the mean cross-entropy (nats per token) of predicting every token of `data` after
    the first, each exactly once; a NaN or infinite loss is a FloatingPointError.

    `data` is a 1-D LongTensor of token ids; `model` maps (B, T) ids to (B, T, V) logits (or to
    an output with .logits, as transformers' models do).
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

    device = check_model("model", model)
    check_token_stream("data", data, min_length=2, vocab_size=vocab_size_of(model))
    block_size = check_block_size("block_size", block_size, model)
    stride = max(block_size // 2, 1) if stride is None else stride
    stride = check_int("stride", stride, minimum=1, maximum=block_size,
                       fix="a stride above block_size would skip tokens")
    batch_size = check_int("batch_size", batch_size, minimum=1)
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
                losses = window_losses(model, data, group, length, device)  # (B, T)
                for row, s in enumerate(group):
                    first = scored_until - (s + 1)  # targets s+1 .. s+first were scored before
                    total += losses[row, first:].sum().item()
                    scored_until = s + 1 + length
    finally:
        model.train(was_training)
    assert scored_until == len(data)  # every target scored exactly once
    return check_finite_loss(total / (len(data) - 1))


def loss_by_position(model: nn.Module, data: Tensor, block_size: int | None = None,
                     stride: int | None = None, batch_size: int = 16) -> Tensor:
    """Return a (block_size,) float64 tensor: entry t is the mean loss (nats) of predicting a
    token from the t + 1 tokens before it in its window, over the windows of block_size + 1
    tokens starting at 0, stride, 2·stride, ... (default stride: block_size, no overlap).

    Only whole windows count (a shorter tail is left out), so every position averages the same
    number of predictions. With stride=block_size and len(data) - 1 a multiple of block_size,
    the mean over positions is text_loss(model, data, block_size, stride=block_size).

    >>> import torch
    >>> from course_utils.model import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=4, block_size=8, n_layer=1, n_head=1, n_embd=8))
    >>> data = torch.tensor([0, 1, 2, 3] * 4 + [0])  # 17 tokens: two windows of 8 predictions
    >>> by_position = loss_by_position(model, data, block_size=8)
    >>> by_position.shape, abs(by_position.mean().item() - text_loss(model, data, 8, 8)) < 1e-6
    (torch.Size([8]), True)
    """
    import torch

    device = check_model("model", model)
    block_size = check_block_size("block_size", block_size, model)
    check_token_stream("data", data, min_length=block_size + 1, vocab_size=vocab_size_of(model),
                       fix=f"one window of block_size + 1 = {block_size + 1} tokens")
    stride = block_size if stride is None else check_int("stride", stride, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    starts = range(0, len(data) - block_size, stride)  # every window has block_size targets
    total = torch.zeros(block_size, dtype=torch.float64)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for i in range(0, len(starts), batch_size):
                group = starts[i:i + batch_size]
                losses = window_losses(model, data, group, block_size, device)  # (B, T)
                total += losses.sum(dim=0).double().cpu()
    finally:
        model.train(was_training)
    check_finite_loss(total.sum().item())
    return total / len(starts)


def check_finite_loss(loss: float, fix: str = "check the model's parameters for NaN") -> float:
    """Return `loss` if finite; else FloatingPointError. A NaN or infinite loss means the
    parameters hold NaN/inf (a diverged run) or the model gives a token zero probability: every
    loss of the course (text_loss, evaluate, train_step) refuses it rather than returning it."""
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss is {loss}: the model's parameters hold NaN or inf "
                                 f"(training diverged?), or it gives a token probability 0; {fix}")
    return loss
